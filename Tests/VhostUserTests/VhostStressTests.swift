import KVM
import StressKit
import Testing

/// Short `stress vhost` runs: block guests on real vCPUs against qemu-storage-daemon. Needs
/// /dev/kvm and the daemon; each is skipped, saying why, where one is missing.
@Suite(
  .enabled(if: daemonMissingReason == nil, "qemu-storage-daemon is not installed"),
  .enabled(if: (try? KVMSystem()) != nil, "no usable /dev/kvm"))
struct VhostStressTests {
  func configuration(fault: VhostFault = .none, seconds: Int64 = 2) -> VhostConfiguration {
    VhostConfiguration(
      duration: .seconds(seconds), vcpus: 1, switchesPerSecond: 200, kickBound: .milliseconds(300),
      operationsPerRound: 32, guestChurnEvery: 8, fault: fault)
  }

  /// No violation; on a machine too loaded to finish a request within the bound (a
  /// sanitizer build) the run is inconclusive and skips the image, saying why.
  @Test func aCleanRunFindsNothing() throws {
    var clean = configuration()
    clean.kickBound = .seconds(2)
    let report = try VhostStress.run(system: KVMSystem(), configuration: clean)
    #expect(report.violations.isEmpty, "\(report.text)")
    #expect(report.requests > 0)
    #expect(report.imageBytesChecked > 0 || report.verdict == .inconclusive, "\(report.text)")
    #expect(report.queues.starts > 1 && report.queues.moves > 0)
  }

  /// One interrupt in five never reaches the guest: the request it reported completed on
  /// the used ring, and the guest was never told. A run too starved to complete requests
  /// (beside three CPU hogs one completed a single request in 10 s) drops no call and is
  /// inconclusive: up to three seeds, until one has done its work.
  @Test func aLostCallIsCaught() throws {
    var texts: [String] = []
    for seed in UInt64(1)...3 {
      var lossy = configuration(fault: .loseCall, seconds: 10)
      lossy.faultEvery = 5
      lossy.seed = seed
      let report = try VhostStress.run(system: KVMSystem(), configuration: lossy)
      if report.verdict != .inconclusive || !report.violations.isEmpty {
        #expect(report.violations.map(\.kind) == [.lostCall], "\(report.text)")
        return
      }
      texts.append(report.text)
    }
    let runs = texts.joined(separator: "\n")
    Issue.record("3 runs inconclusive, no call dropped:\n\(runs)")
  }
}
