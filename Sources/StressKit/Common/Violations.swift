import HostSupport
import Synchronization

/// The kinds of broken invariant the checks report.
public enum ViolationKind: String, CaseIterable, Codable, Comparable, Sendable {
  /// A matching write to a registration that stayed registered was not claimed by it, or
  /// its eventfd drained fewer signals than it claimed.
  case lostSignal = "lost-signal"
  /// A write was claimed by a registration it should not match, or an eventfd drained more
  /// signals than its registration claimed.
  case spuriousSignal = "spurious-signal"
  /// A device was entered, or an eventfd signalled, after its unregister returned.
  case useAfterUnregister = "use-after-unregister"
  /// The bus could not signal a matched eventfd (closed or full).
  case failedSignal = "failed-signal"
  /// Something was not reclaimed or released at the end.
  case reclamation
  /// The torture check: a reader saw an element that survived two grace periods.
  case gracePeriodAge = "grace-period-age"
  /// The torture check: a reader saw an element whose pre-publication field was not set.
  case publishOrdering = "publish-ordering"
  /// The torture check: a `synchronize()` started after a reader entered its section and
  /// returned before the reader left.
  case gracePeriodOverlap = "grace-period-overlap"
  /// The torture check: a deferred callback queued after a reader entered its section ran
  /// before the reader left.
  case callbackEarly = "callback-early"
  /// The torture check: a deferred callback ran twice.
  case callbackDuplicate = "callback-duplicate"
  /// The torture check: a deferred callback had not run after `barrier()`.
  case callbackLost = "callback-lost"

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Collects violations from any thread. Recording takes a lock, which is fine: a clean run
/// never records anything.
final class Violations: Sendable {
  /// How many examples of each kind a report keeps.
  static let examplesKept = 5

  private struct Tally {
    var counts: [ViolationKind: Int] = [:]
    var examples: [ViolationKind: [String]] = [:]
  }

  private let tally = Mutex(Tally())
  private let total = Atomic<Int>(0)

  /// Records one violation with a human-readable description.
  func record(_ kind: ViolationKind, _ example: @autoclosure () -> String) {
    total.add(1, ordering: .relaxed)
    tally.withAnnotatedLock(owner: self) { tally in
      tally.counts[kind, default: 0] += 1
      if tally.examples[kind, default: []].count < Self.examplesKept {
        tally.examples[kind, default: []].append(example())
      }
    }
  }

  /// Whether anything has been recorded (cheap enough to poll from worker loops).
  var any: Bool { total.load(ordering: .relaxed) > 0 }

  /// The number recorded so far.
  var count: Int { total.load(ordering: .relaxed) }

  /// Counts and examples by kind, for reports.
  var summary: [ViolationSummary] {
    tally.withAnnotatedLock(owner: self) { tally in
      tally.counts.keys.sorted().map { kind in
        ViolationSummary(
          kind: kind, count: tally.counts[kind]!, examples: tally.examples[kind] ?? [])
      }
    }
  }
}

/// One kind's line in a report.
public struct ViolationSummary: Codable, Sendable {
  public let kind: ViolationKind
  public let count: Int
  public let examples: [String]
}

extension [ViolationSummary] {
  /// The violations section and verdict line every report ends with.
  var reportLines: [String] {
    guard !isEmpty else { return ["  violations: none", "result: clean"] }
    var lines = ["  VIOLATIONS:"]
    for summary in self {
      lines.append("    \(summary.kind.rawValue): \(summary.count)")
      lines += summary.examples.map { "      e.g. \($0)" }
    }
    return lines + ["result: VIOLATIONS FOUND"]
  }
}
