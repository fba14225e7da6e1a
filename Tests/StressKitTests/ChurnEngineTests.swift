import ConcurrentBus
import Testing

@testable import StressKit

/// Short churn runs driven through the engine: correct flavors are clean, each engine
/// fault is caught by the check named for it, and a run too short to judge is
/// inconclusive. (`--flavor broken` frees memory under readers, so it runs in a child
/// process: see `CLITests`.)
@Suite("Churn engine", .serialized)
struct ChurnEngineTests {
  static func run(
    _ flavor: FlavorChoice = .shipped(.memb), fault: ChurnFault = .none, every: Int = 1,
    seconds: Double = 3, seed: UInt64 = 1, minimumWorkWithin: Double = 0
  ) throws -> ChurnReport {
    try ChurnConfiguration(
      vcpus: 2, duration: seconds, flavor: flavor, fault: fault, faultEvery: every, seed: seed,
      minimumWorkWithin: minimumWorkWithin
    ).run()
  }

  /// Runs on until the minimum of work is done (up to a minute more on a loaded machine).
  @Test(arguments: [RCUFlavorName.memb, .bp].map(FlavorChoice.shipped))
  func aCorrectFlavorIsClean(flavor: FlavorChoice) throws {
    // A run starved of CPU says inconclusive (a shortfall): another seed, at most three.
    let report = try attempts(limit: 3, budget: .seconds(120)) {
      $0.outcome.verdict != .inconclusive
    } _: { index in
      try Self.run(flavor, seed: 1 + UInt64(index), minimumWorkWithin: 60)
    }.last!
    #expect(report.outcome.verdict == .clean, "\(report.text)")
    #expect(report.work.allSatisfy { $0.met })
  }

  @Test func skippingEveryGracePeriodIsCaught() throws {
    let report = try Self.run(fault: .skipGracePeriod)
    #expect(report.outcome.verdict == .violations)
    let kinds = Set(report.violations.map(\.kind))
    #expect(!kinds.isDisjoint(with: [.staleSection, .insideAtRelease, .useAfterUnregister]))
  }

  /// Runs of 10 s, a new seed each, until one is caught: a sanitized build on a busy
  /// machine may skip only a few grace periods per run (a CI run under ThreadSanitizer
  /// skipped 4 in 10 s, none of them overlapped by a reader). The check fails when 40
  /// skipped grace periods in all went unnoticed, or when 8 runs could not skip 40.
  @Test func skippingOneGracePeriodInAHundredIsCaughtByTheStaleSectionCheck() throws {
    var skipped: UInt64 = 0
    let reports = try attempts(limit: 8, budget: .seconds(600)) {
      $0.outcome.verdict == .violations || skipped >= 40
    } _: { (index) throws -> ChurnReport in
      let report = try Self.run(
        fault: .skipGracePeriod, every: 100, seconds: 10, seed: 1 + UInt64(index))
      skipped += report.skippedGracePeriods
      return report
    }
    let report = reports.last!
    guard report.outcome.verdict == .violations else {
      let runs = reports.map(\.text).joined(separator: "\n")
      Issue.record(
        "\(skipped) skipped grace periods over \(reports.count) runs, none caught:\n\(runs)")
      return
    }
    #expect(report.violations.contains { $0.kind == .staleSection }, "\(report.text)")
  }

  @Test func droppingAnEntryIsALostSignal() throws {
    let report = try Self.run(fault: .dropEntry)
    #expect(report.violations.contains { $0.kind == .lostSignal }, "\(report.text)")
  }

  @Test func closingAnEventFDEarlyIsCaught() throws {
    let report = try Self.run(fault: .earlyClose)
    let kinds = Set(report.violations.map(\.kind))
    #expect(!kinds.isDisjoint(with: [.failedSignal, .lostSignal, .spuriousSignal]))
  }

  @Test func aRunTooShortToJudgeIsInconclusiveNotClean() throws {
    let report = try Self.run(seconds: 0.02)
    #expect(report.violations.isEmpty)
    #expect(report.outcome.verdict == .inconclusive)
    #expect(report.outcome.verdict.exitStatus == 2)
    #expect(report.text.contains("result: INCONCLUSIVE"))
  }
}
