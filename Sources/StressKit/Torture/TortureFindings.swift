import Synchronization

/// Where every torture check reports, remembering when the first violation was seen (the
/// "seconds to catch" of `stress faults`).
final class TortureFindings: Sendable {
  let violations = Violations()
  private let started: UInt64
  private let firstViolation = Atomic<UInt64>(0)

  init(started: UInt64) { self.started = started }

  /// Records a violation and, if it is the first, when it was seen.
  func report(_ kind: ViolationKind, _ example: @autoclosure () -> String) {
    _ = firstViolation.compareExchange(
      expected: 0, desired: monotonicNanoseconds() - started + 1, ordering: .relaxed)
    violations.record(kind, example())
  }

  /// Whether anything was reported (polled by the run's main loop).
  var any: Bool { violations.any }

  /// Seconds from the start of the run to the first violation, if any.
  var secondsToFirstViolation: Double? {
    let stamp = firstViolation.load(ordering: .relaxed)
    return stamp == 0 ? nil : Double(stamp - 1) / 1e9
  }
}
