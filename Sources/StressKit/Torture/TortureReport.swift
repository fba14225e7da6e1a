import Foundation
import HostSupport

/// The result of `stress torture`, printed on stdout and written with `--json`.
public struct TortureReport: Codable, Sendable {
  let readers: Int
  let flavor: String
  let fault: String
  let seed: UInt64
  let elapsedSeconds: Double
  let reads: UInt64
  /// Writer updates, each followed by one grace period (skipped under the fault).
  let gracePeriods: UInt64
  /// How many reads saw each pipeline age (the last bucket is "10 or more").
  let ageHistogram: [UInt64]
  let gracePeriodWait: LatencySummary
  let retiredSnapshotsOutstanding: Int
  let peakRSSBytes: UInt64
  let violations: [ViolationSummary]

  public var clean: Bool { violations.isEmpty }

  public var text: String {
    var lines = [
      "stress torture: \(readers) reader thread(s), flavor \(flavor), fault \(fault), seed \(seed)",
      String(
        format: "  ran %.2f s: %llu reads (%.2fM/s), %llu grace periods (%.0f/s)", elapsedSeconds,
        reads,
        Double(reads) / elapsedSeconds / 1e6, gracePeriods, Double(gracePeriods) / elapsedSeconds),
      "  pipeline ages seen: "
        + ageHistogram.enumerated().filter { $0.element > 0 }
        .map {
          "\($0.offset == ageHistogram.count - 1 ? "\($0.offset)+" : "\($0.offset)"): \($0.element)"
        }
        .joined(separator: ", "),
      "  grace-period wait: \(gracePeriodWait.text)",
      "  reclamation: \(retiredSnapshotsOutstanding) retired snapshots outstanding",
      String(format: "  peak RSS: %.1f MiB", Double(peakRSSBytes) / 1_048_576),
    ]
    lines += violations.reportLines
    return lines.joined(separator: "\n")
  }
}
