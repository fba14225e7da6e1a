import Glibc
import Synchronization

/// Hands a deferred release to an async caller: the caller polls for it briefly and
/// suspends only if it has not come by then.
///
/// On an idle bus a release comes a few microseconds after the unregister (one grace
/// period, and at most one wake-up of a reclaimer thread), sooner than a suspension and a
/// resumption take: resuming a task wakes an executor thread (3-10 us on a VM, where waking
/// an idle CPU is a hypervisor exit). Polling for up to ``pollNanos``, yielding the CPU
/// every microsecond, costs the caller's thread no more than a synchronous unregister would.
final class ReleaseSignal: Sendable {
  /// How long the caller polls before it suspends.
  static let pollNanos: UInt64 = 20_000

  private enum State {
    case pending
    case released
    case suspended(CheckedContinuation<Void, Never>)
  }

  private let state = Mutex(State.pending)
  /// Set once the release has happened, for the poll (which takes no lock).
  private let released = Atomic<Bool>(false)

  /// Called once, from the deferred work, after the bus let go of the devices.
  func release() {
    // Releasing: pairs with the acquiring load in `poll`, so a caller that returns from
    // polling sees everything the release did.
    released.store(true, ordering: .releasing)
    let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
      defer { state = .released }
      if case .suspended(let continuation) = state { return continuation }
      return nil
    }
    waiting?.resume()
  }

  /// Returns once ``release()`` has been called: at once if it comes while polling,
  /// otherwise after suspending.
  func wait() async {
    if poll() { return }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      // The mutex orders this against `release`: exactly one of the two resumes.
      let releasedAlready = state.withLock { state -> Bool in
        if case .released = state { return true }
        state = .suspended(continuation)
        return false
      }
      if releasedAlready { continuation.resume() }
    }
  }

  /// Polls for up to ``pollNanos``, yielding the CPU every microsecond (a yield costs
  /// 0.5-1 us here, longer than the release usually takes to be seen).
  private func poll() -> Bool {
    let deadline = Self.now() + Self.pollNanos
    repeat {
      let yieldAt = Self.now() + 1000
      repeat {
        // Acquiring: pairs with the releasing store in `release`.
        if released.load(ordering: .acquiring) { return true }
      } while Self.now() < yieldAt
      sched_yield()
    } while Self.now() < deadline
    // Acquiring: pairs with the releasing store in `release`.
    return released.load(ordering: .acquiring)
  }

  private static func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
  }
}
