import Glibc
import Synchronization

/// When a `whenReleased` closure ran. The caller waits for it by polling, yielding the CPU,
/// as `unregisterAndAwaitRelease` does: a caller asleep on a semaphore would be woken by the
/// closure, and its wake-up (5-10 us here) would decide whether its next unregister finds the
/// reclaimer still polling.
final class ReleaseStamp: Sendable {
  private let nanos = Atomic<UInt64>(0)

  /// Called by the closure.
  func stamp() {
    // Releasing: pairs with the acquiring load in `waitForStamp`.
    nanos.store(monotonicNanos(), ordering: .releasing)
  }

  /// Waits for the stamp and returns it.
  func waitForStamp() -> UInt64 {
    while true {
      let yieldAt = monotonicNanos() + 1000
      repeat {
        // Acquiring: pairs with the releasing store in `stamp`.
        let stamped = nanos.load(ordering: .acquiring)
        if stamped != 0 { return stamped }
      } while monotonicNanos() < yieldAt
      sched_yield()
    }
  }
}
