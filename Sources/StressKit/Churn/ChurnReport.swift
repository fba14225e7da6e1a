import Foundation

/// The result of `stress churn`, printed on stdout and written with `--json`.
public struct ChurnReport: CheckReport, Codable {
  /// The command that ran.
  public let command: String
  let configuration: ChurnConfiguration
  let elapsedSeconds: Double
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
  /// The stall watchdog's timeout and the longest waits it saw; `stalled` when the final
  /// reconciliation was skipped.
  let stall: StallSummary
  /// What the run concluded.
  public let verdict: Verdict
  /// The minimums and what the run reached.
  public let work: [WorkMeasure]
  /// What broke, by kind.
  public let violations: [ViolationSummary]

  /// The human-readable report.
  public var text: String {
    let c = configuration
    var lines = [
      "stress churn: \(c.vcpus) vCPU, \(c.hotplug) hotplug, \(c.consumers) consumer thread(s); flavor \(c.flavor.rawValue), fault \(faultText), seed \(c.seed)",
      "  devices: \(c.devices) stable eventfds, \(c.churnDevices) churned slots (eventfd + range each), \(c.rings) ring slots",
      String(format: "  ran %.2f s", elapsedSeconds),
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
    lines.append(stall.text)
    if stall.stalled { lines.append("  final reconciliation skipped: threads stalled") }
    lines += outcome.lines
    return lines.joined(separator: "\n")
  }

  private var faultText: String {
    let c = configuration
    guard c.faultEvery > 1 else { return c.fault.rawValue }
    if c.fault == .skipGracePeriod { return "\(c.fault.rawValue) (1 removal in \(c.faultEvery))" }
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

  func makeReport(
    elapsed: Double, released: Int, held: Int, resident: (after30s: UInt64?, atEnd: UInt64),
    stall: StallSummary
  ) -> ChurnReport {
    let tallies = vcpuResults.withAnnotatedLock(owner: self) { $0 }
    let updates = hotplug.counters[.updates]
    let batches = hotplug.counters[.batches]
    let statistics = bus.statistics
    let ringSummary = rings?.summary(
      vcpus: configuration.vcpus, valuesWritten: counters[.ringWrites])
    let work =
      Self.minimumWork(
        registrations: hotplug.counters[.registrations],
        gracePeriodsWaited: hotplug.counters[.gracePeriodsWaited],
        deferredReleases: hotplug.counters[.deferredReleases],
        sectionsSeen: hotplug.counters[.sectionsSeen],
        slowestVCPU: tallies.map(\.dispatches).min() ?? 0)
      + (ringSummary?.minimumWork ?? [])
    let violations = violations.summary
    return ChurnReport(
      command: "churn",
      configuration: configuration,
      elapsedSeconds: elapsed,
      dispatches: counters[.dispatches],
      dispatchesPerSecondPerVCPU: tallies.map { Double($0.dispatches) / elapsed },
      claimed: counters[.claimed],
      unclaimed: counters[.unclaimed],
      registrations: hotplug.counters[.registrations],
      removals: hotplug.counters[.removals],
      singleUpdatesPerSecond: Double(updates - batches) / elapsed,
      batchedUpdatesPerSecond: Double(batches) / elapsed,
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
      stall: stall,
      verdict: Verdict(work: work, violations: violations),
      work: work,
      violations: violations)
  }
}
