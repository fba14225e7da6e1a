import ConcurrentBus
import RCU
import RCUFaultFlavors
import Testing

@testable import StressKit

/// A device that accepts every write.
private final class ChurnedDevice: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { nil }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

/// The churn check of the reclamation backlog: quiet on a correct bus, and firing, during
/// the run and after its final barrier, when reclamations are withheld.
@Suite("Reclamation backlog watch", .serialized)
struct BacklogWatchTests {
  /// Registers and unregisters (deferred) `cycles` times on `bus`, sampling the backlog
  /// after each cycle, then waits for every deferred work and checks what is left.
  func churn<Flavor: RCUFlavor>(
    _ bus: IOBus<Flavor>, cycles: Int, watch: BacklogWatch, violations: Violations
  ) throws -> BacklogSummary {
    for cycle in 0..<cycles {
      let registration = try bus.register(
        ChurnedDevice(), base: UInt64(cycle % 64) * 0x10, length: 8)
      try bus.unregister(registration) {}
      watch.sample(bus.reclamationBacklog, into: violations)
    }
    Flavor.barrier()
    return watch.finish(bus.reclamationBacklog, into: violations)
  }

  @Test("a correct bus: the backlog is sampled, peaks above zero, and ends empty")
  func correctBusIsQuiet() throws {
    let violations = Violations()
    // Limits a correct bus crosses only if a reclamation is lost: even with no age at all
    // required, 10,000 later ones never finish while an earlier one waits.
    let watch = BacklogWatch(stuckAge: .zero, stuckOvertakes: 10_000)
    let summary = try churn(IOBus(), cycles: 3000, watch: watch, violations: violations)
    #expect(!violations.any, "\(violations.summary)")
    #expect(summary.samples == 3000 && summary.peakTables >= 1 && summary.tablesAtEnd == 0)
    #expect(summary.devicesAtEnd == 0 && summary.bytesAtEnd == 0)
  }

  @Test("withheld reclamations: stuck during the run, and left over after the barrier")
  func withheldReclamationIsCaught() throws {
    let violations = Violations()
    let watch = BacklogWatch(stuckAge: .zero, stuckOvertakes: 100)
    let summary = try RCUFaultInjection.with(RCUFault(.lostCallback, every: 50)) {
      try churn(
        IOBus(flavor: FaultyRCU<MembRCU>.self), cycles: 3000, watch: watch,
        violations: violations)
    }
    let found = violations.summary.first { $0.kind == .unboundedBacklog }
    // One when the oldest got stuck, one for what the barrier left.
    #expect(found?.count == 2, "\(violations.summary)")
    #expect(summary.tablesAtEnd > 0 && summary.peakOvertakenBy >= 100)
  }

  @Test("stress churn --fault withhold-reclamation is caught by the backlog check")
  func churnFaultIsCaught() throws {
    // Without rings: a ring whose release is lost is never sealed, and the run would wait
    // for it before reporting.
    // On a loaded machine 2 s may hold back too few reclamations to cross the limits:
    // longer runs, a new seed each (2, 4, 8 s).
    let reports = try attempts(limit: 3) {
      $0.outcome.verdict == .violations
    } _: { index in
      try ChurnConfiguration(
        vcpus: 2, duration: 2 * Double(1 << index), rings: 0, fault: .withholdReclamation,
        faultEvery: 100, seed: 1 + UInt64(index)
      ).run()
    }
    let report = reports.last!
    #expect(report.outcome.verdict == .violations, "\(reports.map(\.text))")
    #expect(report.violations.contains { $0.kind == .unboundedBacklog }, "\(report.text)")
    #expect(report.text.contains("reclamation backlog: peak"))
  }
}
