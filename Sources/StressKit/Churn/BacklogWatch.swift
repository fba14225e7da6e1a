import ConcurrentBus
import RCU
import RCUFaultFlavors
import Synchronization

extension ViolationKind {
  /// The bus's reclamation backlog grew without bound: a retired table or removed device
  /// stayed waiting while many later ones were freed, or something was still waiting after
  /// the final barrier.
  public static let unboundedBacklog = ViolationKind("unbounded-backlog")
}

/// Watches a churn run's ``ReclamationBacklog``: samples it as the run goes, reports its
/// peak, and calls it unbounded in two cases, neither of which a correct bus on a loaded
/// machine can reach.
///
/// - **Stuck, during the run**: the oldest waiting reclamation has waited at least
///   ``stuckAge`` (30 s) *and* at least ``stuckOvertakes`` (10,000) reclamations handed over
///   after it have finished meanwhile. Load slows every reclamation alike (grace periods end
///   in order), so a slow machine grows the age but not the overtakes; a reclaimer thread
///   descheduled in the middle of one work is overtaken by the others, but not for 30 s.
///   Only a reclamation that is never going to run is both.
/// - **Left over, at the end**: once dispatching and hotplug have stopped and the flavor's
///   `barrier()` has returned, every deferred reclamation has run, so the backlog must be
///   empty whatever the machine's load. This is where a lost one is always caught, in runs
///   too short to call it stuck.
///
/// `stress churn --fault withhold-reclamation` drops one deferred reclamation in
/// `--fault-every` (the flavor's deferred work, through `FaultyRCU`'s lost callback): this
/// check must catch it.
final class BacklogWatch: Sendable {
  /// How long the oldest must have waited to be stuck.
  let stuckAge: Duration
  /// How many later reclamations must have finished while it waited.
  let stuckOvertakes: Int
  private let seen = Mutex(Seen())

  /// The largest backlog seen, figure by figure (not necessarily at once).
  private struct Seen {
    var samples = 0
    var peak = ReclamationBacklog(
      retiredTables: 0, releasedDevices: 0, bytes: 0, oldestAge: .zero, oldestOvertakenBy: 0)
    var reportedStuck = false
  }

  init(stuckAge: Duration = .seconds(30), stuckOvertakes: Int = 10_000) {
    self.stuckAge = stuckAge
    self.stuckOvertakes = stuckOvertakes
  }

  /// Samples `backlog` (read from the bus during the run); records a violation the first
  /// time the oldest reclamation is stuck.
  func sample(_ backlog: ReclamationBacklog, into violations: Violations) {
    let stuck = backlog.oldestAge >= stuckAge && backlog.oldestOvertakenBy >= stuckOvertakes
    let firstTime = seen.withLock { seen in
      seen.samples += 1
      seen.peak.retiredTables = max(seen.peak.retiredTables, backlog.retiredTables)
      seen.peak.releasedDevices = max(seen.peak.releasedDevices, backlog.releasedDevices)
      seen.peak.bytes = max(seen.peak.bytes, backlog.bytes)
      seen.peak.oldestAge = max(seen.peak.oldestAge, backlog.oldestAge)
      seen.peak.oldestOvertakenBy = max(seen.peak.oldestOvertakenBy, backlog.oldestOvertakenBy)
      defer { if stuck { seen.reportedStuck = true } }
      return stuck && !seen.reportedStuck
    }
    if firstTime {
      violations.record(
        .unboundedBacklog,
        "a reclamation has waited while \(backlog.oldestOvertakenBy) later ones were freed (backlog: \(backlog))"
      )
    }
  }

  /// Checks `backlog`, read after the run's final `barrier()`: it must be empty. Returns
  /// the report's summary. With no `violations` (the run could not wind down in time, so
  /// reclamations may still be owed) the backlog is summarized, not judged.
  func finish(_ backlog: ReclamationBacklog, into violations: Violations?) -> BacklogSummary {
    if let violations, !backlog.isEmpty {
      violations.record(
        .unboundedBacklog,
        "still waiting after the final barrier, which runs every deferred reclamation: \(backlog)"
      )
    }
    return seen.withLock { seen in
      BacklogSummary(
        samples: seen.samples, peakTables: seen.peak.retiredTables,
        peakDevices: seen.peak.releasedDevices, peakBytes: seen.peak.bytes,
        peakOldestAgeSeconds: Double(seen.peak.oldestAge.components.seconds)
          + Double(seen.peak.oldestAge.components.attoseconds) / 1e18,
        peakOvertakenBy: seen.peak.oldestOvertakenBy, tablesAtEnd: backlog.retiredTables,
        devicesAtEnd: backlog.releasedDevices, bytesAtEnd: backlog.bytes)
    }
  }
}

/// The reclamation backlog's part of a churn report.
public struct BacklogSummary: Codable, Sendable, Equatable {
  /// Samples taken during the run.
  let samples: Int
  /// The largest figures seen (each on its own).
  let peakTables: Int
  let peakDevices: Int
  let peakBytes: Int
  let peakOldestAgeSeconds: Double
  let peakOvertakenBy: Int
  /// What was still waiting after the final barrier (must be 0).
  let tablesAtEnd: Int
  let devicesAtEnd: Int
  let bytesAtEnd: Int

  var line: String {
    "  reclamation backlog: peak \(peakTables) tables, \(peakDevices) devices, \(peakBytes) bytes, "
      + "oldest \(Int(peakOldestAgeSeconds * 1e6)) us, overtaken by \(peakOvertakenBy) "
      + "(\(samples) samples); after the final barrier \(tablesAtEnd) tables, "
      + "\(devicesAtEnd) devices, \(bytesAtEnd) bytes"
  }
}

extension ChurnConfiguration {
  /// Runs churn on `flavor`, or, for a flavor-level fault (`withhold-reclamation`,
  /// `stall-synchronize`), on `flavor` wrapped in `FaultyRCU` making it once in
  /// `faultEvery`.
  func runChurn<Flavor: RCUFlavor>(on flavor: Flavor.Type) throws -> ChurnReport {
    guard let kind = fault.rcuFaultKind else { return try ChurnRun<Flavor>(self).run() }
    return try RCUFaultInjection.with(RCUFault(kind, every: faultEvery)) {
      try ChurnRun<FaultyRCU<Flavor>>(self).run()
    }
  }
}
