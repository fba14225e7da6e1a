import HostSupport
import Synchronization

/// A queue of deferred work the watchdog follows: pending and completed counts.
final class ProgressGauge: Sendable {
  let what: String
  private let pending: @Sendable () -> UInt64
  private let completed: @Sendable () -> UInt64
  private let lastCompleted = Atomic<UInt64>(0)
  private let lastProgress = Atomic<UInt64>(monotonicNanoseconds())
  private let reported = Atomic<Bool>(false)

  init(
    what: String, pending: @escaping @Sendable () -> UInt64,
    completed: @escaping @Sendable () -> UInt64
  ) {
    self.what = what
    self.pending = pending
    self.completed = completed
  }

  /// The pending count and how long nothing completed, if that is `timeout` or more while
  /// work was pending and it was not reported yet.
  /// Called by the watchdog thread alone.
  func stalled(now: UInt64, timeout: UInt64) -> (pending: UInt64, idle: UInt64)? {
    let done = completed()
    let waiting = pending()
    if done != lastCompleted.load(ordering: .relaxed) || waiting == 0 {
      lastCompleted.store(done, ordering: .relaxed)
      lastProgress.store(now, ordering: .relaxed)
      return nil
    }
    let idle = now - lastProgress.load(ordering: .relaxed)
    guard idle >= timeout, !reported.load(ordering: .relaxed) else { return nil }
    return (waiting, idle)
  }

  /// Marks the stall reported: a gauge reports once (by the watchdog thread alone).
  func markReported() { reported.store(true, ordering: .relaxed) }
}
