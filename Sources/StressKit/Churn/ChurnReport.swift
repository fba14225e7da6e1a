import Foundation

/// The result of `stress churn`, printed on stdout and written with `--json`.
public struct ChurnReport: CheckReport {
  /// The command that ran.
  public let command: String
  let configuration: ChurnConfiguration
  /// What the run could hold at once (``ChurnLimits``): retired eventfds, open rings,
  /// ring values awaiting reconciliation.
  let limits: ChurnLimitsSummary
  let elapsedSeconds: Double
  /// Seconds from the process's start (or the run's, in a test) until every thread was
  /// running: setup and thread start, which count against the run's bound.
  let startupSeconds: Double
  /// Guest accesses dispatched by all vCPU threads.
  let dispatches: UInt64
  let dispatchesPerSecondPerVCPU: [Double]
  /// Dispatches some registration claimed / nothing claimed.
  let claimed: UInt64
  let unclaimed: UInt64
  /// Churned slots plugged (each an eventfd and a range device) and unplugged.
  let registrations: UInt64
  let removals: UInt64
  let singleUpdatesPerSecond: Double
  let batchedUpdatesPerSecond: Double
  /// Slot plugs the hotplug threads left out because the run held all it may
  /// (back-pressure: retired eventfds not yet reconciled).
  let plugsHeldBack: UInt64
  /// Removing updates that blocked for their grace period.
  let gracePeriodsWaited: UInt64
  /// Deferred release callbacks that ran.
  let deferredReleases: UInt64
  /// Removals whose grace period the `skip-grace-period` fault skipped.
  let skippedGracePeriods: UInt64
  /// Removal checks run (stale-section and in-device), and the vCPUs they found inside a
  /// read-side section.
  let removalChecks: UInt64
  let sectionsSeenByChecks: UInt64
  /// How long synchronous removals blocked.
  let gracePeriodWait: LatencySummary
  let busUnclaimedWrites: UInt64
  let busFailedSignals: UInt64
  /// Snapshots not yet reclaimed after the final barrier (must be 0).
  let retiredSnapshotsOutstanding: Int
  /// Eventfds the bus let go of at the end, and any it still held (must be 0).
  let eventFDsReleased: Int
  let eventFDsStillHeld: Int
  let peakRSSBytes: UInt64
  /// Resident memory 30 s into the run (runs of 30 s or more) and as dispatching stopped:
  /// a long run must not grow.
  let rssAfter30sBytes: UInt64?
  let rssAtEndBytes: UInt64
  /// The rings' part, unless the run had none.
  let rings: RingChurnSummary?
  /// The bus's reclamation backlog: its peak, and what was left after the final barrier.
  let reclamationBacklog: BacklogSummary
  /// The stall watchdog's timeout and the longest waits it saw; `stalled` when the final
  /// reconciliation was skipped.
  let stall: StallSummary
  /// The minimums and what the run reached.
  public let work: [WorkMeasure]
  /// What broke, by kind.
  public let violations: [ViolationSummary]
  /// Where the tool ran short, by kind.
  public let shortfalls: [Shortfall]

  /// The human-readable report.
  public var text: String {
    let c = configuration
    var lines = [
      "stress churn: \(c.vcpus) vCPU, \(c.hotplug) hotplug, \(c.consumers) consumer thread(s); flavor \(c.flavor.rawValue), fault \(faultText), seed \(c.seed)",
      "  devices: \(c.devices) stable eventfds, \(c.churnDevices) churned slots (eventfd + range each), \(c.rings) ring slots",
      String(
        format: "  ran %.2f s, every thread running %.2f s after the start", elapsedSeconds,
        startupSeconds),
      String(
        format: "  dispatches: %llu total, %@ per second per vCPU; claimed %llu, unclaimed %llu",
        dispatches,
        dispatchesPerSecondPerVCPU.map { String(format: "%.2fM", $0 / 1e6) }.joined(
          separator: " / "),
        claimed, unclaimed),
      String(
        format:
          "  updates: %.0f single/s, %.0f batches/s; %llu slots plugged, %llu unplugged",
        singleUpdatesPerSecond, batchedUpdatesPerSecond, registrations, removals),
      "  removals: \(gracePeriodsWaited) waited for their grace period, \(deferredReleases) deferred releases ran, \(skippedGracePeriods) skipped by the fault",
      "  bounds: \(limits.text); \(plugsHeldBack) plug(s) held back",
      "  removal checks: \(removalChecks), finding \(sectionsSeenByChecks) vCPU(s) inside a read-side section",
      "  grace-period wait: \(gracePeriodWait.text)",
      "  bus statistics: \(busUnclaimedWrites) unclaimed writes, \(busFailedSignals) failed signals",
      "  reclamation: \(retiredSnapshotsOutstanding) retired snapshots outstanding; \(eventFDsReleased) eventfds released, \(eventFDsStillHeld) still held",
      String(format: "  peak RSS: %.1f MiB", Double(peakRSSBytes) / 1_048_576)
        + (rssAfter30sBytes.map {
          String(
            format: "; RSS after 30 s %.1f MiB, at the end %.1f MiB (%+.1f%%)",
            Double($0) / 1_048_576,
            Double(rssAtEndBytes) / 1_048_576, (Double(rssAtEndBytes) / Double($0) - 1) * 100)
        } ?? ""),
    ]
    lines += rings?.lines ?? []
    lines.append(reclamationBacklog.line)
    lines.append(stall.text)
    if stall.stalled { lines.append("  final reconciliation skipped: threads stalled") }
    lines += outcome.lines
    return lines.joined(separator: "\n")
  }

  private var faultText: String {
    let c = configuration
    guard c.faultEvery > 1 else { return c.fault.rawValue }
    if c.fault == .skipGracePeriod { return "\(c.fault.rawValue) (1 removal in \(c.faultEvery))" }
    if c.fault == .withholdReclamation {
      return "\(c.fault.rawValue) (1 deferred work in \(c.faultEvery))"
    }
    if c.fault == .stallSynchronize {
      return "\(c.fault.rawValue) (1 synchronize() in \(c.faultEvery))"
    }
    if c.fault.isRingFault && c.fault != .ringEarlyReturn {
      return "\(c.fault.rawValue) (1 ring value in \(c.faultEvery))"
    }
    return c.fault.rawValue
  }
}

extension ChurnRun {
  /// The least work after which "no violation" means something: each check must have had
  /// material, on every vCPU. Chosen from measurements on a loaded 2-core machine, where
  /// a 1 s default run does several times each (see README, "Verdicts").
  static func minimumWork(
    registrations: UInt64, gracePeriodsWaited: UInt64, deferredReleases: UInt64,
    sectionsSeen: UInt64, slowestVCPU: UInt64
  ) -> [WorkMeasure] {
    [
      WorkMeasure("churned registrations", done: registrations, required: 50),
      WorkMeasure("grace periods waited", done: gracePeriodsWaited, required: 20),
      WorkMeasure("deferred releases", done: deferredReleases, required: 10),
      WorkMeasure("vCPU sections seen by removal checks", done: sectionsSeen, required: 20),
      WorkMeasure("dispatches by the slowest vCPU", done: slowestVCPU, required: 50_000),
    ]
  }

  /// The dispatches of the vCPU that has made the fewest so far.
  var slowestVCPU: UInt64 {
    vcpuDispatches.map { $0.value.load(ordering: .relaxed) }.min() ?? 0
  }

  /// The work done so far against its minimums (the rings' included).
  func work(slowestVCPU: UInt64) -> [WorkMeasure] {
    Self.minimumWork(
      registrations: hotplug.counters[.registrations],
      gracePeriodsWaited: hotplug.counters[.gracePeriodsWaited],
      deferredReleases: hotplug.counters[.deferredReleases],
      sectionsSeen: hotplug.counters[.sectionsSeen], slowestVCPU: slowestVCPU)
      + (rings?.summary(vcpus: configuration.vcpus, valuesWritten: 0).minimumWork ?? [])
  }

  func makeReport(
    elapsed: Double, startup: Double, released: Int, held: Int,
    resident: (after30s: UInt64?, atEnd: UInt64), backlog: BacklogSummary,
    stall: StallSummary
  ) -> ChurnReport {
    let tallies = vcpuResults.withAnnotatedLock(owner: self) { $0 }
    let updates = hotplug.counters[.updates]
    let batches = hotplug.counters[.batches]
    let statistics = bus.statistics
    let ringSummary = rings?.summary(
      vcpus: configuration.vcpus, valuesWritten: counters[.ringWrites])
    let work = work(slowestVCPU: slowestVCPU)
    let violations = violations.summary
    return ChurnReport(
      command: "churn",
      configuration: configuration,
      limits: ChurnLimitsSummary(limits),
      elapsedSeconds: elapsed,
      startupSeconds: startup,
      dispatches: counters[.dispatches],
      dispatchesPerSecondPerVCPU: tallies.map { Double($0.dispatches) / elapsed },
      claimed: counters[.claimed],
      unclaimed: counters[.unclaimed],
      registrations: hotplug.counters[.registrations],
      removals: hotplug.counters[.removals],
      singleUpdatesPerSecond: Double(updates - batches) / elapsed,
      batchedUpdatesPerSecond: Double(batches) / elapsed,
      plugsHeldBack: hotplug.heldBack,
      gracePeriodsWaited: hotplug.counters[.gracePeriodsWaited],
      deferredReleases: hotplug.counters[.deferredReleases],
      skippedGracePeriods: hotplug.counters[.skippedGracePeriods],
      removalChecks: hotplug.removalChecks,
      sectionsSeenByChecks: hotplug.counters[.sectionsSeen],
      gracePeriodWait: hotplug.gracePeriodWaits,
      busUnclaimedWrites: statistics.unclaimedWrites,
      busFailedSignals: bus.eventFDStatistics.failedSignals,
      retiredSnapshotsOutstanding: bus.retiredSnapshots,
      eventFDsReleased: released,
      eventFDsStillHeld: held,
      peakRSSBytes: peakResidentBytes(),
      rssAfter30sBytes: resident.after30s,
      rssAtEndBytes: resident.atEnd,
      rings: ringSummary,
      reclamationBacklog: backlog,
      stall: stall,
      work: work,
      violations: violations,
      shortfalls: shortfalls.summary)
  }
}

/// ``ChurnLimits`` as a report shows them.
struct ChurnLimitsSummary: Encodable, Sendable {
  let retiredEventFDs: Int
  let openRings: Int
  let pendingRingValues: Int

  init(_ limits: ChurnLimits) {
    retiredEventFDs = limits.retiredEventFDs
    openRings = limits.openRings
    pendingRingValues = limits.pendingRingValues
  }

  var text: String {
    "at most \(retiredEventFDs) retired eventfds and \(openRings) open rings, "
      + "\(pendingRingValues) ring values awaiting reconciliation"
  }
}
