import Foundation

/// The result of `stress faults`: one row per catalogue fault (all its seeds), the rare
/// case, and one row per flavor of clean runs.
public struct FaultCampaignReport: Codable, Sendable {
  public let plan: FaultCampaignPlan
  public let rows: [FaultCampaignRow]
  public let elapsedSeconds: Double

  /// Whether every row met its target.
  public var allMet: Bool { rows.allSatisfy(\.met) }

  /// The campaign's exit status: 1 when a row missed (a fault escaped, or a clean run
  /// flagged), 2 when nothing missed but a row could not judge (a run inconclusive), 0 when
  /// every row met its target.
  public var exitStatus: Int32 {
    if rows.contains(where: { $0.outcome == .missed }) { return 1 }
    return allMet ? 0 : 2
  }

  /// The table, as printed.
  public var text: String {
    let p = plan
    var lines = [
      "stress faults: \(p.seeds) seed(s) per fault, \(format(p.duration)) s per run, faults on "
        + "\(p.flavor.rawValue)"
        + (p.rareEvery > 0 ? "; rare case 1 in \(p.rareEvery) for \(format(p.rareDuration)) s" : "")
        + (p.cleanRuns > 0
          ? "; \(p.cleanRuns) clean torture and litmus runs of \(format(p.cleanDuration)) s on "
            + p.cleanFlavors.map(\.rawValue).joined(separator: ", ") : ""),
      "",
    ]
    let header = [
      "fault", "rate", "flavor", "detector", "exit", "seconds to catch, per seed", "target",
    ]
    let table = [header] + rows.map(\.cells)
    let widths = header.indices.map { column in table.map { $0[column].count }.max()! }
    for (index, cells) in table.enumerated() {
      lines.append(
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
          .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
      if index == 0 {
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
      }
    }
    let missed = rows.filter { $0.outcome == .missed }
    let inconclusive = rows.filter { $0.outcome == .inconclusive }
    lines.append("")
    lines.append(
      missed.isEmpty && inconclusive.isEmpty
        ? "targets: all \(rows.count) met"
        : "targets: \(missed.count) of \(rows.count) MISSED"
          + missed.map { ", \($0.fault) on \($0.flavor)" }.joined()
          + "; \(inconclusive.count) INCONCLUSIVE (a run could not judge)"
          + inconclusive.map { ", \($0.fault) on \($0.flavor)" }.joined())
    lines.append(
      "seconds to catch: when the run first reported one of the fault's detectors, counted "
        + "from when its threads were all running (a crash: the child's wall clock)")
    lines.append(String(format: "ran %.0f s", elapsedSeconds))
    for row in missed + inconclusive {
      for run in row.runs where !run.stderrTail.isEmpty {
        lines.append("  \(row.fault) \(run.arguments.joined(separator: " ")):")
        lines += run.stderrTail.split(separator: "\n").map { "    \($0)" }
      }
    }
    return lines.joined(separator: "\n")
  }
}

extension FaultCampaignRow {
  /// The row's cells, in the table's column order.
  var cells: [String] {
    [
      fault, rate, flavor,
      detectors.isEmpty ? "-" : detectors.joined(separator: "|"), exitCodes, catchTimes,
      [.met: "met", .missed: "MISSED", .inconclusive: "INCONCLUSIVE"][outcome]!
        + " (\(role == "clean" ? "no flag in" : "<=") \(format(targetSeconds)) s)",
    ]
  }

  /// Exit statuses: one per seed, or counts for the clean runs ("0 x20").
  private var exitCodes: String {
    guard role == "clean" else { return runs.map(\.statusText).joined(separator: " ") }
    var counts: [String: Int] = [:]
    for run in runs { counts[run.statusText, default: 0] += 1 }
    return counts.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(
      separator: ", ")
  }

  /// Seconds to catch per seed ("-" for a run that missed), or how many clean runs stayed
  /// clean.
  private var catchTimes: String {
    guard role == "clean" else {
      return runs.map { run in
        Self.caughtSeconds(run, detectors: detectors).map { String(format: "%.3f", $0) }
          ?? "-"
      }.joined(separator: " ")
    }
    let clean = runs.filter { $0.exitStatus == 0 }.count
    return "\(clean) of \(runs.count) clean"
  }
}

/// "10" for whole seconds, "2.5" otherwise.
private func format(_ seconds: Double) -> String {
  seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
