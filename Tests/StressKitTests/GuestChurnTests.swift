import KVM
import Testing

@testable import StressKit

/// Opens /dev/kvm once; nil (and the tests skipped, saying why) where there is none.
let kvm: KVMSystem? = try? KVMSystem()

/// `stress kvm`'s engine with real guests; skipped without /dev/kvm.
@Suite("Guest churn (KVM)", .serialized, .enabled(if: kvm != nil, "needs /dev/kvm"))
struct GuestChurnTests {
  @Test(arguments: [false, true])
  func churnDuringAGuestRunCountsExactly(kernelIOEventFD: Bool) throws {
    let system = try #require(kvm)
    var configuration = GuestChurnConfiguration(
      duration: .seconds(3), vcpus: min(2, try system.recommendedVCPUCount()),
      hotplugThreads: 1, stableDevices: 8, churnDevices: 8, kernelIOEventFD: kernelIOEventFD,
      seed: 7)
    // On a loaded machine 3 s may not reach the minimum of work: more rounds until it does.
    configuration.minimumWorkWithin = .seconds(60)
    // A run starved of CPU says inconclusive (a shortfall): another seed, at most three.
    let report = try attempts(limit: 3, budget: .seconds(120)) {
      $0.outcome.verdict != .inconclusive
    } _: { (index) throws -> GuestChurnReport in
      configuration.seed = 7 + UInt64(index)
      return try GuestChurn.run(system: system, configuration: configuration)
    }.last!
    #expect(report.violations.isEmpty, "\(report.text)")
    #expect(report.outcome.verdict == .clean, "\(report.text)")
    #expect(report.drainedSignals > 0)
    #expect(report.unclaimedWrites > 0)
    #expect(report.drainedSignals + report.unclaimedWrites == report.executedWrites)
    #expect(report.removalChecks > 0)
    if kernelIOEventFD {
      #expect(report.kernelAbsorbedWrites > 0)
    } else {
      #expect(report.kernelAbsorbedWrites == 0)
      #expect(report.deferredReleases > 0)
    }
  }

  /// A round cannot be cut short; one still running at the budget's last work deadline is
  /// left running, and the run ends with a `time` shortfall instead of waiting for it. The
  /// round is made about 60 times as long as a calibrated tenth of the 1 s run (6 s against
  /// the 1 s that half the grace allows); a machine that sped up enough to finish it anyway
  /// gets another try, with rounds twice as long, at most three.
  @Test func aRoundStillRunningAtTheLastWorkDeadlineIsLeftRunning() throws {
    let system = try #require(kvm)
    var configuration = GuestChurnConfiguration(
      duration: .seconds(1), vcpus: 1, hotplugThreads: 1, stableDevices: 4, churnDevices: 4,
      seed: 11)
    let tenth = try GuestChurn.calibrate(
      system: system, configuration: configuration, registeredKeys: 8)
    let reports = try attempts(limit: 3) {
      $0.rounds == 0
    } _: { (index) throws in
      configuration.roundIterations = min(60 * tenth << index, 100_000_000)
      return try GuestChurn.run(system: system, configuration: configuration)
    }
    let report = reports.last!
    #expect(report.rounds == 0, "\(report.text)")
    #expect(report.outcome.verdict == .inconclusive, "\(report.text)")
    let time = try #require(report.shortfalls.first { $0.kind == .time }, "\(report.text)")
    #expect(time.examples.contains { $0.contains("was still running when the time ran out") })
  }

  @Test func moreVCPUsThanKVMRecommendsAreRefusedBeforeAnythingRuns() throws {
    let system = try #require(kvm)
    let limit = try system.recommendedVCPUCount()
    guard limit < RunLimits.maximumThreads else { return }
    #expect(throws: OptionError.self) {
      try GuestChurn.run(
        system: system,
        configuration: GuestChurnConfiguration(duration: .seconds(1), vcpus: limit + 1))
    }
  }
}
