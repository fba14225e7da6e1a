import ConcurrentBus
import Foundation
import Glibc
import RCUFaultFlavors
import Testing

@testable import StressKit

/// Torture runs as specifications: a correct flavor stays clean, a run that did too little
/// is inconclusive, and every check fires against the fault it exists for.
/// Every suite that installs a fault, nested here so that they run one at a time: the
/// installed fault is process-wide.
@Suite("Fault injection", .serialized)
struct FaultInjectionSuites {}

extension FaultInjectionSuites {
  @Suite("Torture")
  struct TortureTests {
    /// Enough work to judge in a short test run, on every flavor (bp ends a grace period
    /// only every 10 ms or so).
    static let testMinimum = TortureMinimum(reads: 1_000, gracePeriods: 50, callbacks: 50)

    static func configuration(
      flavor: FlavorChoice = .shipped(.memb), fault: TortureFault = .none, every: Int? = nil,
      duration: Double = 10, minimumWorkWithin: Double = 0
    ) -> TortureConfiguration {
      TortureConfiguration(
        readers: 2, fakeWriters: 2, duration: duration, flavor: flavor, fault: fault,
        faultEvery: every, seed: 7, minimum: testMinimum, minimumWorkWithin: minimumWorkWithin)
    }

    @Test(
      "a correct flavor stays clean, with enough work done to say so",
      arguments: [RCUFlavorName.memb, .bp, .qsbr, .mb].map(FlavorChoice.shipped))
    func cleanRunStaysClean(flavor: FlavorChoice) throws {
      // A run starved of CPU says inconclusive (a shortfall): another seed, at most three.
      let reports = try attempts(limit: 3, budget: .seconds(120)) {
        $0.verdict != .inconclusive
      } _: { (index) throws -> TortureReport in
        var configuration = Self.configuration(
          flavor: flavor, duration: 2, minimumWorkWithin: 60)
        configuration.seed = 7 + UInt64(index)
        return try Torture.run(configuration)
      }
      let report = reports.last!
      #expect(report.violations.isEmpty, "\(report.text)")
      #expect(report.verdict == .clean, "\(report.text)")
      #expect(report.reads >= Self.testMinimum.reads)
      #expect(report.callbacksRun == report.callbacksQueued)
    }

    @Test("a run too short to do the minimum of work is inconclusive, not clean")
    func tooLittleWorkIsInconclusive() throws {
      var configuration = Self.configuration(duration: 0.001)
      configuration.minimum = .standard
      let report = try Torture.run(configuration)
      #expect(report.violations.isEmpty)
      #expect(report.verdict == .inconclusive, "\(report.text)")
    }

    @Test(
      "every torture fault in the catalogue is caught by its detector",
      .disabled(if: underSanitizer, "faults free memory readers use"),
      arguments: FaultCatalogue.torture)
    func catalogueFaultIsCaught(fault: CatalogueFault) throws {
      let reports = try attempts(limit: 6) {
        fault.isCaught(by: $0.violations.map(\.kind.rawValue))
      } _: { (index) throws -> TortureReport in
        var configuration = Self.configuration(for: fault)
        configuration.seed = 7 + UInt64(index)
        return try Torture.run(configuration)
      }
      let kinds = reports.last!.violations.map(\.kind.rawValue)
      let texts = reports.map(\.text).joined(separator: "\n")
      #expect(
        fault.isCaught(by: kinds), "\(fault.id) not caught in \(reports.count) runs:\n\(texts)")
    }

    @Test(
      "the pipeline-age check fires when grace periods are cut short",
      .disabled(if: underSanitizer, "faults free memory readers use"))
    func ageCheckFires() throws {
      // A run stops at its first violation; on a loaded machine the overlap check may find
      // a cut-short grace period first. Every run must be caught; one by the age check.
      let ageFired = { (report: TortureReport) in
        report.violations.contains { $0.kind == .gracePeriodAge }
      }
      let reports = try attempts(limit: 10, until: ageFired) { index in
        var configuration = Self.configuration(fault: .rcu(.shortGracePeriod))
        configuration.seed = 7 + UInt64(index)
        return try Torture.run(configuration)
      }
      for report in reports { #expect(!report.violations.isEmpty, "\(report.text)") }
      #expect(ageFired(reports.last!), "\(reports.map(\.text).joined(separator: "\n"))")
    }

    @Test(
      "the reclamation check fires when every deferred callback is lost",
      .disabled(if: underSanitizer, "lost callbacks leak by design"))
    func reclamationCheckFires() throws {
      // The reclamation check has material only once the writer has handed a snapshot to
      // a (lost) callback; the run stops at its first violation, which a fake writer's
      // barrier may find first. Seeds until one run had that material (bounded).
      var texts: [String] = []
      for seed in UInt64(7)..<17 {
        var configuration = Self.configuration(fault: .rcu(.lostCallback), every: 1)
        configuration.seed = seed
        let report = try Torture.run(configuration)
        let kinds = report.violations.map(\.kind)
        #expect(kinds.contains(.callbackLost), "\(report.text)")
        if report.deferredReclaims > 0 {
          #expect(kinds.contains(.reclamation), "\(report.text)")
          return
        }
        texts.append(report.text)
      }
      Issue.record("no run handed a snapshot to a callback:\n\(texts.joined(separator: "\n"))")
    }

    @Test(
      "a grace period skipped once in 10,000 is caught within 60 s",
      .tags(.slow), .enabled(if: slowTestsEnabled && !underSanitizer))
    func rareSkipIsCaught() throws {
      let report = try Torture.run(
        Self.configuration(fault: .rcu(.skipGracePeriod), every: 10_000, duration: 60))
      #expect(report.violations.contains { $0.kind == .gracePeriodOverlap }, "\(report.text)")
    }

    /// A catalogue entry as a configuration, at the catalogue's own rate.
    static func configuration(for fault: CatalogueFault) -> TortureConfiguration {
      if let flavor = fault.flavor { return configuration(flavor: flavor) }
      let arguments = fault.arguments
      let value = { (option: String) in
        arguments.firstIndex(of: option).map { arguments[$0 + 1] }
      }
      var configuration = configuration(
        fault: TortureFault(rawValue: value("--fault")!)!,
        every: value("--fault-every").flatMap(Int.init))
      if let after = value("--fault-after-us").flatMap(Int.init) {
        configuration.faultAfterMicroseconds = after
      }
      return configuration
    }
  }
}

extension Tag {
  /// Tests that take tens of seconds: run with STRESSKIT_SLOW_TESTS=1.
  @Tag static var slow: Self
}

/// Whether the slow tests run (STRESSKIT_SLOW_TESTS=1).
let slowTestsEnabled = ProcessInfo.processInfo.environment["STRESSKIT_SLOW_TESTS"] == "1"

/// Whether this test process runs under ThreadSanitizer or AddressSanitizer. A fault run
/// frees memory that readers are still using, by design: a sanitizer reports (or aborts on)
/// that before the torture's own checks can, so those tests are left to uninstrumented
/// runs (`Scripts/tsan.sh` checks a faulty torture run through the tool instead).
let underSanitizer = ["__tsan_init", "__asan_init"].contains { (symbol: String) in
  dlsym(nil, symbol) != nil
}

/// Whether this test process (and so the stress binary built with it) runs under
/// ThreadSanitizer.
let underThreadSanitizer = dlsym(nil, "__tsan_init") != nil
