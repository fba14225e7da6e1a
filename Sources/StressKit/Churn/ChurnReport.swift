import HostSupport
import Foundation

/// The result of `stress churn`, printed on stdout and written with `--json`.
public struct ChurnReport: Codable, Sendable {
  let configuration: ChurnConfiguration
  let elapsedSeconds: Double
  /// Guest accesses dispatched by all vCPU threads.
  let dispatches: UInt64
  let dispatchesPerSecondPerVCPU: [Double]
  /// Dispatches some registration claimed / nothing claimed.
  let claimed: UInt64
  let unclaimed: UInt64
  /// Churned registrations made (each an eventfd and a range device).
  let registrations: UInt64
  let singleUpdatesPerSecond: Double
  let batchedUpdatesPerSecond: Double
  let synchronousUnregisters: UInt64
  let deferredUnregisters: UInt64
  /// How long synchronous unregisters (single or batched) blocked.
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
  let violations: [ViolationSummary]

  public var clean: Bool { violations.isEmpty }

  /// The human-readable report.
  public var text: String {
    let c = configuration
    var lines = [
      "stress churn: \(c.vcpus) vCPU, \(c.hotplug) hotplug, \(c.consumers) consumer thread(s); flavor \(c.flavor.rawValue), fault \(c.fault.rawValue), seed \(c.seed)",
      "  devices: \(c.devices) stable eventfds, \(c.churnDevices) churned slots (eventfd + range each)",
      String(format: "  ran %.2f s", elapsedSeconds),
      String(
        format: "  dispatches: %llu total, %@ per second per vCPU; claimed %llu, unclaimed %llu",
        dispatches,
        dispatchesPerSecondPerVCPU.map { String(format: "%.2fM", $0 / 1e6) }.joined(
          separator: " / "),
        claimed, unclaimed),
      String(
        format:
          "  updates: %.0f single/s, %.0f batches/s; %llu registrations; unregisters %llu synchronous, %llu deferred",
        singleUpdatesPerSecond, batchedUpdatesPerSecond, registrations, synchronousUnregisters,
        deferredUnregisters),
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
    lines += violations.reportLines
    return lines.joined(separator: "\n")
  }
}
