import Foundation
import HostSupport

/// The result of `stress torture`, printed on stdout and written with `--json`.
public struct TortureReport: CheckReport {
  /// The command that ran.
  public let command: String
  let configuration: TortureConfiguration
  /// The flavor's own name (a loaded library's `concurrentbus_rcu_name`).
  let flavorName: String
  let elapsedSeconds: Double
  /// Read-side sections completed, how many had a nested section, and how many slept.
  let reads: UInt64
  let nestedReads: UInt64
  let longSections: UInt64
  /// The longest a reader slept inside a section by the end (scaled to the grace periods).
  let longestReaderDelayNanoseconds: UInt64
  /// Writer updates, each followed by one grace period.
  let updates: UInt64
  /// Writer updates whose replaced snapshot was handed to a deferred callback (the rest
  /// were reclaimed after the writer's own grace period).
  let deferredReclaims: UInt64
  /// `synchronize()` calls that returned, writer and fake writers together.
  let gracePeriods: UInt64
  let callbacksQueued: UInt64
  let callbacksRun: UInt64
  let barriers: UInt64
  /// How many times the injected fault fired.
  let faultFirings: UInt64
  /// How many reads saw each pipeline age (the last bucket is "10 or more").
  let ageHistogram: [UInt64]
  let gracePeriodWait: LatencySummary
  let retiredSnapshotsOutstanding: Int
  let peakRSSBytes: UInt64
  /// The stall watchdog's timeout and the longest waits it saw.
  let stall: StallSummary
  /// False when a stall left threads behind and the final barrier and checks were skipped.
  let finalChecksRan: Bool
  /// Reads, grace periods and callbacks run, against the minimum for a verdict.
  public let work: [WorkMeasure]
  /// What broke, by kind.
  public let violations: [ViolationSummary]
  /// Where the tool ran short, by kind.
  public let shortfalls: [Shortfall]

  /// The human-readable report.
  public var text: String {
    let c = configuration
    var fault = c.fault.rawValue
    if c.fault != .none {
      fault += " every \(c.faultEvery)"
      if c.fault == .rcu(.shortGracePeriod) { fault += " after \(c.faultAfterMicroseconds) us" }
      fault += " (fired \(faultFirings) times)"
    }
    let perSecond = { (count: UInt64) in Double(count) / self.elapsedSeconds }
    var lines = [
      "stress torture: \(c.readers) reader(s), \(c.fakeWriters) fake writer(s), flavor "
        + (flavorName == c.flavor.rawValue ? flavorName : "\(c.flavor.rawValue) (\(flavorName))")
        + ", fault \(fault), seed \(c.seed)",
      String(
        format: "  ran %.2f s: %llu reads (%.2fM/s; %llu nested, %llu long), %llu updates",
        elapsedSeconds, reads, perSecond(reads) / 1e6, nestedReads, longSections, updates),
      String(
        format: "  %llu grace periods (%.0f/s), %llu callbacks queued, %llu run, %llu barriers",
        gracePeriods, perSecond(gracePeriods), callbacksQueued, callbacksRun, barriers),
      "  pipeline ages seen: "
        + ageHistogram.enumerated().filter { $0.element > 0 }
        .map {
          "\($0.offset == ageHistogram.count - 1 ? "\($0.offset)+" : "\($0.offset)"): \($0.element)"
        }
        .joined(separator: ", "),
      "  grace-period wait: \(gracePeriodWait.text); long reader delays up to "
        + format(longestReaderDelayNanoseconds),
      finalChecksRan
        ? "  reclamation: \(retiredSnapshotsOutstanding) retired snapshots outstanding"
        : "  final barrier and checks skipped: threads stalled and were abandoned",
      stall.text,
      String(format: "  peak RSS: %.1f MiB", Double(peakRSSBytes) / 1_048_576),
    ]
    if let first = violations.compactMap(\.firstSeenSeconds).min() {
      lines.append(String(format: "  first violation after %.3f s", first))
    }
    lines += outcome.lines
    return lines.joined(separator: "\n")
  }
}

extension TortureRun {
  /// Reads, grace periods and callbacks run so far, against the minimum for a verdict.
  func work() -> [WorkMeasure] {
    let minimum = configuration.minimum
    return [
      WorkMeasure("reads", done: counters[.reads], required: minimum.reads),
      WorkMeasure(
        "grace periods", done: gracePeriods.completedCount, required: minimum.gracePeriods),
      WorkMeasure("callbacks run", done: callbacks.runCount, required: minimum.callbacks),
    ]
  }

  func report(elapsed: Double, stall: StallSummary, finalChecksRan: Bool) -> TortureReport {
    let reads = counters[.reads]
    let gracePeriodCount = gracePeriods.completedCount
    let callbacksRun = callbacks.runCount
    let work = work()
    let violations = self.violations.summary
    let firings = configuration.fault.firings(
      writerFirings: writerFaults.load(ordering: .relaxed))
    return TortureReport(
      command: "torture", configuration: configuration, flavorName: Flavor.name,
      elapsedSeconds: elapsed, reads: reads,
      nestedReads: counters[.nestedReads], longSections: counters[.longSections],
      longestReaderDelayNanoseconds: longDelays.nanoseconds,
      updates: counters[.updates], deferredReclaims: counters[.deferredReclaims],
      gracePeriods: gracePeriodCount,
      callbacksQueued: callbacks.queued, callbacksRun: callbacksRun,
      barriers: counters[.barriers], faultFirings: firings,
      ageHistogram: agesSeen.withAnnotatedLock(owner: self) { $0 },
      gracePeriodWait: LatencySummary(gracePeriodWaits.withAnnotatedLock(owner: self) { $0 }),
      retiredSnapshotsOutstanding: cell.retiredCount, peakRSSBytes: peakResidentBytes(),
      stall: stall, finalChecksRan: finalChecksRan,
      work: work, violations: violations, shortfalls: shortfalls.summary)
  }
}
