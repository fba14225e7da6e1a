import Glibc
import HostSupport
import Synchronization

/// Runs the wrapped flavor's real grace periods on a thread of its own, so that a caller can
/// stop waiting for one after a timeout: how ``RCUFaultKind/shortGracePeriod`` cuts
/// `synchronize()` short without touching the flavor it wraps.
///
/// Requests are numbered. The thread, woken by a semaphore, reads the highest request and
/// only then starts a real grace period, which therefore covers every reader that was in a
/// section when any of those requests was made; when it returns, they are all complete.
final class GracePeriodRunner: Sendable {
  private let requests = RunnerRequests()
  private let thread: HostThread?
  private let synchronizeHere: @Sendable () -> Void

  init(synchronize: @escaping @Sendable () -> Void) {
    synchronizeHere = synchronize
    let requests = self.requests
    thread = try? HostThread { requests.serve(synchronize) }
  }

  /// Starts a real grace period and waits at most `nanoseconds` for it. Returns true when
  /// it gave up before the grace period ended. Without a runner thread (it could not be
  /// started) it waits for the whole grace period on the caller's thread.
  func synchronize(givingUpAfter nanoseconds: UInt64) -> Bool {
    guard thread != nil else {
      synchronizeHere()
      return false
    }
    let mine = requests.request()
    let deadline = Self.now() + nanoseconds
    while !requests.isCompleted(mine) {
      if Self.now() >= deadline { return true }
      sched_yield()
    }
    return false
  }

  /// Stops the thread once its current grace period (if any) ends.
  func stop() {
    requests.stop()
    thread?.join()
  }

  private static func now() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
  }
}

/// The numbered requests a ``GracePeriodRunner`` serves, and the semaphore that wakes it.
private final class RunnerRequests: @unchecked Sendable {
  // @unchecked: `wake` is a POSIX semaphore, safe to post and wait from any thread; it is
  // destroyed in deinit, after the serving thread (which holds a reference) has returned.
  private let wake: UnsafeMutablePointer<sem_t>
  private let requested = Atomic<UInt64>(0)
  private let completed = Atomic<UInt64>(0)
  private let stopping = Atomic<Bool>(false)

  init() {
    wake = .allocate(capacity: 1)
    sem_init(wake, 0, 0)
  }

  deinit {
    sem_destroy(wake)
    wake.deallocate()
  }

  /// Numbers a new request and wakes the server.
  func request() -> UInt64 {
    // Releasing: pairs with the server's acquiring load of `requested`.
    let mine = requested.wrappingAdd(1, ordering: .releasing).newValue
    sem_post(wake)
    return mine
  }

  /// Whether a grace period that started after request `ticket` has ended.
  func isCompleted(_ ticket: UInt64) -> Bool {
    // Acquiring: pairs with the server's releasing store of `completed`.
    completed.load(ordering: .acquiring) >= ticket
  }

  func stop() {
    // Releasing: pairs with the server's acquiring load of `stopping` in `serve`.
    stopping.store(true, ordering: .releasing)
    sem_post(wake)
  }

  /// The server loop: one real grace period per wake-up that finds new requests.
  func serve(_ synchronize: () -> Void) {
    while true {
      while sem_wait(wake) != 0 {}  // EINTR: wait again.
      // Acquiring: pairs with the releasing store in `stop`.
      if stopping.load(ordering: .acquiring) { return }
      // Acquiring: pairs with the releasing increment in `request`, so the grace period
      // below starts after every request it answers was made.
      let target = requested.load(ordering: .acquiring)
      guard target > completed.load(ordering: .relaxed) else { continue }
      synchronize()
      // Releasing: pairs with the acquiring load in `isCompleted`, so a caller that sees
      // its request completed sees the grace period done.
      completed.store(target, ordering: .releasing)
    }
  }
}
