import RCU
import Synchronization

/// A kind of broken invariant a check reports, by its stable name (`"lost-signal"`).
///
/// A struct rather than an enum so that each checker declares its own kinds next to its
/// check, in an extension in its own file, without touching the others:
///
/// ```swift
/// extension ViolationKind {
///   /// What broke, and which check saw it.
///   static let readerBatch = ViolationKind("reader-batch")
/// }
/// ```
///
/// The name is what reports print and what `--json` holds (`violations[].kind`); scripts
/// match on it, so a kind's name never changes once shipped.
public struct ViolationKind: RawRepresentable, Hashable, Comparable, Codable, Sendable,
  CustomStringConvertible
{
  /// The stable name, lowercase words joined by hyphens.
  public let rawValue: String

  /// The kind named `rawValue`.
  public init(rawValue: String) { self.rawValue = rawValue }

  /// The kind named `name`.
  public init(_ name: String) { self.rawValue = name }

  public var description: String { rawValue }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension ViolationKind {
  /// A matching write to a registration that stayed registered was not claimed by it, or
  /// an eventfd drained fewer signals than its registration claimed.
  public static let lostSignal = ViolationKind("lost-signal")
  /// A write was claimed by a registration it should not match, or an eventfd drained more
  /// signals than its registration claimed.
  public static let spuriousSignal = ViolationKind("spurious-signal")
  /// A device was entered, or an eventfd signalled, after its unregister returned.
  public static let useAfterUnregister = ViolationKind("use-after-unregister")
  /// A thread was still inside a device when its synchronous unregister returned or its
  /// deferred release ran (the in-device counter was not zero).
  public static let insideAtRelease = ViolationKind("inside-at-release")
  /// A vCPU was still inside a read-side section that began before a removal was
  /// published, when that removal's unregister returned or its deferred release ran.
  public static let staleSection = ViolationKind("stale-section")
  /// The bus could not signal a matched eventfd (closed or full).
  public static let failedSignal = ViolationKind("failed-signal")
  /// An unclaimed guest read did not reach the guest as all ones.
  public static let unclaimedReadValue = ViolationKind("unclaimed-read-value")
  /// A register or unregister the tool expected to succeed failed.
  public static let hotplugFailure = ViolationKind("hotplug-failure")
  /// Something was not reclaimed or released at the end.
  public static let reclamation = ViolationKind("reclamation")
  /// A thread died of a fatal signal (see ``CrashGuard``): under a broken grace period,
  /// most likely a reader touching memory reclaimed too early.
  public static let crash = ViolationKind("crash")
}

/// Collects violations from any thread. Recording takes a lock, which is fine: a clean run
/// never records anything.
final class Violations: Sendable {
  /// How many examples of each kind a report keeps.
  static let examplesKept = 5

  private struct Tally {
    var counts: [ViolationKind: Int] = [:]
    var examples: [ViolationKind: [String]] = [:]
    var firstSeen: [ViolationKind: UInt64] = [:]
  }

  private let tally = Mutex(Tally())
  private let total = Atomic<Int>(0)
  private let started = Atomic<UInt64>(monotonicNanoseconds())

  /// Restarts the clock that ``ViolationSummary/firstSeenSeconds`` counts from: call when
  /// the run's threads are all running.
  func startClock() { started.store(monotonicNanoseconds(), ordering: .relaxed) }

  /// Records one violation with a human-readable description.
  func record(_ kind: ViolationKind, _ example: @autoclosure () -> String) {
    total.add(1, ordering: .relaxed)
    let now = monotonicNanoseconds()
    tally.withAnnotatedLock(owner: self) { tally in
      tally.counts[kind, default: 0] += 1
      if tally.firstSeen[kind] == nil { tally.firstSeen[kind] = now }
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
    let started = started.load(ordering: .relaxed)
    return tally.withAnnotatedLock(owner: self) { tally in
      tally.counts.keys.sorted().map { kind in
        let first = tally.firstSeen[kind] ?? started
        return ViolationSummary(
          kind: kind, count: tally.counts[kind]!, examples: tally.examples[kind] ?? [],
          firstSeenSeconds: Double(first > started ? first - started : 0) / 1e9)
      }
    }
  }
}

/// One kind's line in a report.
public struct ViolationSummary: Codable, Sendable, Equatable {
  /// What broke.
  public let kind: ViolationKind
  /// How many times.
  public let count: Int
  /// The first few, described.
  public let examples: [String]
  /// When the first was seen, in seconds since the run's threads were all running (nil
  /// when not measured, as for a crash).
  public let firstSeenSeconds: Double?

  /// A summary of `count` violations of `kind`, the first seen `firstSeenSeconds` in.
  public init(kind: ViolationKind, count: Int, examples: [String], firstSeenSeconds: Double? = nil)
  {
    self.kind = kind
    self.count = count
    self.examples = examples
    self.firstSeenSeconds = firstSeenSeconds
  }
}
