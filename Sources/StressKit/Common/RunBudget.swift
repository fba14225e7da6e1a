import Synchronization

/// The time a run may take, counted from when its process started: its `--duration`, plus
/// a grace of max(2 s, 10% of the duration) for starting its threads, winding down and
/// writing its report. A run never takes longer: whatever is still busy when the grace
/// runs out (a thread inside a grace period, a guest round, a consumer behind) is left
/// behind, named as a shortfall, and the run ends inconclusive instead of waiting.
///
/// A run may also be allowed to go on past its duration until it has done its minimum of
/// work (`--minimum-work-within S`, what the tests use on loaded machines): up to `S` more
/// seconds, which then count as part of its duration.
public struct RunBudget: Sendable {
  /// The work phase's length, in seconds, with any extension for the minimum of work.
  public let duration: Double
  /// The work phase's length when the minimum of work is reached in time.
  public let nominal: Double
  /// When the budget started (monotonic nanoseconds): the process's start when the CLI
  /// marked it (``markProcessStart()``), otherwise when the budget was made.
  let started: UInt64

  /// The part of the grace kept for printing the report and for the process's exit, in
  /// seconds: at least 30% of the grace, more for a run whose exit has much to tear down.
  public let exitReserve: Double

  /// A budget of `duration` seconds, plus up to `extension` more to reach the minimum of
  /// work, plus the grace, from the process's start (or now). `teardown` estimates what the
  /// process's exit will tear down (``teardownSeconds(descriptors:threads:)``).
  public init(duration: Double, extension extra: Double = 0, teardown: Double = 0) {
    self.nominal = duration
    self.duration = duration + max(extra, 0)
    let grace = Self.grace(for: self.duration)
    exitReserve = min(max(0.3 * grace, teardown), 0.6 * grace)
    let mark = processStartMark.load(ordering: .relaxed)
    started = mark != 0 ? mark : monotonicNanoseconds()
  }

  /// Remembers this moment as the process's start: the CLI calls it first thing, so that
  /// parsing, setup and thread start count against the budget too. Tests never call it;
  /// each of their runs counts from its own start.
  public static func markProcessStart() {
    processStartMark.store(monotonicNanoseconds(), ordering: .relaxed)
  }

  /// The grace on top of the duration: max(2 s, 10%).
  public var grace: Double { Self.grace(for: duration) }

  /// max(2 s, 10% of `duration`): how far past its duration any run may end.
  public static func grace(for duration: Double) -> Double { max(2, duration / 10) }

  /// When the work phase ends: `duration` after `running` (when every thread was running),
  /// but no later than a third of the grace past the duration, so that a slow start leaves
  /// the rest of the grace for winding down.
  public func workDeadline(running: UInt64) -> UInt64 {
    min(running &+ nanoseconds(nominal), started &+ nanoseconds(nominal + grace / 3))
  }

  /// When the work phase ends at the latest, for a run that has not reached its minimum
  /// of work by ``workDeadline(running:)``: the extension past it, within the same rule.
  public func extendedWorkDeadline(running: UInt64) -> UInt64 {
    min(running &+ nanoseconds(duration), started &+ nanoseconds(duration + grace / 3))
  }

  /// Whether the work phase is over at `now`: past the extended deadline, or past the
  /// nominal one with the minimum of work reached (`minimumMet` is only asked then).
  func workIsOver(now: UInt64, running: UInt64, minimumMet: () -> Bool) -> Bool {
    now >= extendedWorkDeadline(running: running)
      || (now >= workDeadline(running: running) && minimumMet())
  }

  /// When work already under way that cannot be cut short (a guest round runs to its end
  /// once started) is given up and left running: half the grace past the duration, which
  /// leaves the rest of the grace for winding down and the report.
  public var lastWorkDeadline: UInt64 { started &+ nanoseconds(duration + grace / 2) }

  /// When winding down must be over: the grace past the duration less ``exitReserve``.
  public var windDownDeadline: UInt64 {
    started &+ nanoseconds(duration + grace - exitReserve)
  }

  /// How long the exit of a process holding `descriptors` open (eventfds, many on epoll
  /// sets) and `threads` may take on a loaded machine: closing 19,000 eventfds took 0.33 s
  /// beside two CPU hogs, and each thread a few milliseconds more.
  public static func teardownSeconds(descriptors: Int, threads: Int) -> Double {
    30e-6 * Double(descriptors) + 5e-3 * Double(threads)
  }

  /// Nanoseconds left until `deadline` (0 once it has passed).
  static func remaining(until deadline: UInt64) -> UInt64 {
    let now = monotonicNanoseconds()
    return deadline > now ? deadline - now : 0
  }

  private func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }
}

/// The process's start as the CLI marked it, or 0.
private let processStartMark = Atomic<UInt64>(0)
