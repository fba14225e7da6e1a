import Glibc
import HostSupport
import Synchronization

/// How long a reader stays at one point of its read-side section: mostly a few hundred
/// nanoseconds, sometimes microseconds, sometimes a few grace periods' worth on the CPU,
/// rarely milliseconds asleep (preempted inside the section), sometimes a `sched_yield`.
/// Long sections are what let a grace period that does not wait, or one cut short, start
/// and end while a reader is still inside.
enum ReaderDelay {
  /// Burn this many multiply-adds (0 to a few hundred nanoseconds).
  case spin(Int)
  /// Busy-wait this many nanoseconds (on the CPU, inside the section).
  case busy(UInt64)
  /// Sleep this many nanoseconds (off the CPU, inside the section).
  case sleep(UInt64)
  /// Give the CPU away once.
  case yield

  /// A delay drawn from the torture's mix: `long` in 100,000 asleep for 50 us to
  /// `longest` nanoseconds; `spanning` in 100,000 busy for 3 to 10 times `span` (the time
  /// an unobstructed grace period takes: such a delay holds a whole grace period, which
  /// is what catches a section the flavor did not protect); 4.5% busy for 1 to 20 us; 3% a
  /// yield; the rest a short spin.
  static func random(
    _ rng: inout SplitMix64, long: UInt64, longest: UInt64, spanning: UInt64 = 0,
    span: UInt64 = 0
  ) -> ReaderDelay {
    let roll = rng.next() % 100_000
    let amount = rng.next()
    switch roll {
    case 0..<long: return .sleep(50_000 + amount % (longest - 50_000))
    case long..<(long + spanning): return .busy(3 * span + amount % (7 * span + 1))
    case (long + spanning)..<(long + spanning + 4_500): return .busy(1_000 + amount % 19_000)
    case (long + spanning + 4_500)..<(long + spanning + 7_500): return .yield
    default: return .spin(Int(amount % 256))
    }
  }

  /// Whether this delay is long enough to count as a long section in the report.
  var isLong: Bool {
    if case .sleep = self { return true }
    return false
  }

  /// Waits as described.
  func perform() {
    switch self {
    case .spin(let iterations):
      linger(iterations, seed: UInt64(iterations))
    case .busy(let nanoseconds):
      let until = monotonicNanoseconds() + nanoseconds
      while monotonicNanoseconds() < until {}
    case .sleep(let nanoseconds):
      var request = timespec(tv_sec: 0, tv_nsec: Int(nanoseconds))
      var remaining = timespec()
      while nanosleep(&request, &remaining) != 0 { request = remaining }  // EINTR: the rest.
    case .yield:
      sched_yield()
    }
  }
}

/// The shape of one read-side section: a delay after the first look at the element, and
/// one time in eight a nested section followed by a further delay inside the outer one.
///
/// Long delays (asleep inside the section) are 0.5% of the first delays and 5% of the
/// delays after a nested section, where an inner unlock that wrongly ended the outer
/// section leaves the reader unprotected. They last from 50 us up to `longest`, which the
/// run scales to the flavor's grace periods (``LongDelayBound``): a window only catches a
/// grace period that did not wait if a whole grace period fits in it.
///
/// Spanning delays, placed where a grace period must wait (just after entry, inside the
/// nested section, and after it), busy-wait 3 to 10 unobstructed grace periods: 5% of the
/// first and nested delays, 25% of those after a nested section, for grace periods of up
/// to 10 us (memb, mb: a few microseconds), proportionally fewer for longer ones (qsbr,
/// bp, whose grace periods wait for the readers' own sections). Sleeps alone are too rare
/// for a fault that fires once in 1000 sections, and while a reader sleeps in a section
/// every grace period waits for it, so no grace period can end inside another reader's
/// unprotected one; a spanning delay on the CPU is short enough (microseconds on memb)
/// to be frequent, and long enough to hold a whole grace period.
struct ReadPlan {
  var first: ReaderDelay
  /// The delay inside the nested section, when there is one.
  var nested: ReaderDelay?
  /// The delay after the nested section ends, still inside the outer one: where an inner
  /// unlock that wrongly ended the outer section leaves the reader unprotected.
  var afterNested: ReaderDelay

  static func random(_ rng: inout SplitMix64, longest: UInt64, span: UInt64) -> ReadPlan {
    // Longer sleeps, proportionally fewer: the time readers spend asleep stays the same,
    // or grace periods (which wait for sleeping readers) would slow down with the bound.
    let scale = LongDelayBound.floor
    // Spanning delays too: up to a span of 10 us at full rate, proportionally fewer beyond,
    // so that readers spend about the same time in them whatever the flavor.
    let spanning = { (rate: UInt64) in min(rate, rate * 10_000 / max(span, 1)) }
    let first = ReaderDelay.random(
      &rng, long: 500 * scale / longest, longest: longest, spanning: spanning(5_000), span: span)
    guard rng.next() % 8 == 0 else { return ReadPlan(first: first, afterNested: .spin(0)) }
    return ReadPlan(
      first: first,
      nested: ReaderDelay.random(
        &rng, long: 500 * scale / longest, longest: longest, spanning: spanning(5_000),
        span: span),
      afterNested: ReaderDelay.random(
        &rng, long: 5_000 * scale / longest, longest: longest, spanning: spanning(25_000),
        span: span))
  }
}

/// The longest a reader sleeps inside a section: four times the shortest tenth of the
/// writer's recent grace periods, between 2 ms and 50 ms (rcutorture's long reader delay).
/// liburcu's memb, qsbr and mb end a grace period in microseconds, so 2 ms; bp polls its
/// readers every 10 ms, so its windows must be tens of milliseconds to hold a whole grace
/// period. The tenth, not the median: most grace periods wait for a sleeping reader, and a
/// bound taken from those would feed on itself up to the ceiling.
///
/// It also keeps that tenth itself, bounded to [1 us, 200 us], as the span of an
/// unobstructed grace period (``ReaderDelay/random(_:long:longest:spanning:span:)``).
final class LongDelayBound: Sendable {
  static var floor: UInt64 { 2_000_000 }
  static var ceiling: UInt64 { 50_000_000 }
  private let bound = Atomic<UInt64>(LongDelayBound.floor)
  private let unobstructed = Atomic<UInt64>(10_000)

  /// The current bound, in nanoseconds.
  var nanoseconds: UInt64 { bound.load(ordering: .relaxed) }

  /// How long an unobstructed grace period takes, in nanoseconds.
  var span: UInt64 { unobstructed.load(ordering: .relaxed) }

  /// Resets the bound from the writer's recent grace-period waits (sorted in place).
  func update(fromRecent waits: inout [UInt64]) {
    waits.sort()
    let tenth = waits[waits.count / 10]
    bound.store(min(max(4 * tenth, Self.floor), Self.ceiling), ordering: .relaxed)
    unobstructed.store(min(max(tenth, 1_000), 200_000), ordering: .relaxed)
  }
}
