import CHostSupport
import Glibc
import Synchronization

/// A real pthread running one closure, so each vCPU (or stress worker) has its own kernel
/// thread and never shares a Swift concurrency or Dispatch worker with another.
///
/// Read-side sections on it need no setup (readers register lazily), but a long-lived
/// reader should call ``RCUFlavor/registerCurrentThread()`` first.
///
/// The thread inherits the creator's signal mask (Swift concurrency workers block
/// most signals), so a signal meant to interrupt a blocking call must be unblocked in `body`.
///
/// Sendable: the thread id is immutable, and `state` lets exactly one caller join or
/// detach the thread.
public final class HostThread: Sendable {
  private let thread: pthread_t
  /// ``Release`` raw values: who has the thread's pthread handle.
  private let state = Atomic<Int>(Release.none.rawValue)
  private let finished: Finished

  /// Who has released the pthread handle (`claimed`: a caller is joining or detaching now).
  private enum Release: Int {
    case none, claimed, joined, detached
  }

  /// Starts a thread running `body`.
  public init(_ body: @escaping @Sendable () -> Void) throws(ThreadStartError) {
    let finished = Finished()
    self.finished = finished
    thread = try startThread {
      body()
      // Releasing: pairs with the acquiring load in `hasFinished`.
      finished.flag.store(true, ordering: .releasing)
    }
  }

  /// Whether `body` has returned. The thread may still be ending (its thread-local
  /// destructors, an RCU flavor's unregistration, run after `body`): ``tryJoin()`` says
  /// when it has.
  public var hasFinished: Bool {
    // Acquiring: pairs with the releasing store after `body` returns.
    finished.flag.load(ordering: .acquiring)
  }

  /// Waits for the thread to end; later calls (and calls after ``detach()``) return
  /// immediately.
  public func join() {
    guard claim() else { return }
    pthread_join(thread, nil)
    // Releasing: pairs with the acquiring loads in `claim`, `tryJoin` and deinit.
    state.store(Release.joined.rawValue, ordering: .releasing)
  }

  /// Joins the thread if it has ended, without waiting: true once it is joined (by this
  /// call or an earlier one), false while it runs or ends, or if it was detached. For a
  /// caller that waits with a deadline: a thread whose `body` returned can still block in
  /// its exit (an RCU flavor's unregistration waits for the registry lock, which a
  /// liburcu-signal grace period held for a second beside two CPU hogs), and `join()`
  /// would wait for it.
  public func tryJoin() -> Bool {
    guard claim() else {
      // Acquiring: pairs with the releasing store in `join` or here.
      return state.load(ordering: .acquiring) == Release.joined.rawValue
    }
    let ended = chost_thread_try_join(thread) == 0
    // Releasing: pairs with the acquiring loads in `claim`, here and in deinit.
    state.store((ended ? Release.joined : .none).rawValue, ordering: .releasing)
    return ended
  }

  /// Lets the thread release its resources by itself when it ends, for a caller that
  /// stops waiting for it (a thread left inside a stalled grace period): nobody will join
  /// it, and it must not count as leaked once it ends. Later joins return at once.
  public func detach() {
    guard claim() else { return }
    pthread_detach(thread)
    // Releasing: pairs with the acquiring loads in `claim`, `tryJoin` and deinit.
    state.store(Release.detached.rawValue, ordering: .releasing)
  }

  /// Takes the pthread handle for a join or detach; false once it was joined or detached.
  /// A caller trying a join meanwhile holds it a moment: its outcome is waited for.
  private func claim() -> Bool {
    while true {
      // Acquiring and releasing: pairs with the releasing stores in `join`, `tryJoin` and
      // `detach`, so exactly one caller at a time has the handle.
      let (exchanged, original) = state.compareExchange(
        expected: Release.none.rawValue, desired: Release.claimed.rawValue,
        ordering: .acquiringAndReleasing)
      if exchanged { return true }
      if original != Release.claimed.rawValue { return false }
      sched_yield()
    }
  }

  deinit {
    // Acquiring: pairs with the releasing stores in `join`, `tryJoin` and `detach`.
    if state.load(ordering: .acquiring) == Release.none.rawValue { pthread_detach(thread) }
  }
}

extension HostThread {
  /// The calling thread's kernel id (gettid(2)): its entry under `/proc/self/task`.
  public static var currentKernelID: Int32 { chost_thread_id() }

  /// Starts a thread running `body` that nobody joins: the thread lets go of its resources,
  /// and of `body`, when `body` returns.
  public static func detach(_ body: @escaping @Sendable () -> Void) throws(ThreadStartError) {
    pthread_detach(try startThread(body))
  }
}

/// The flag a thread raises as its body returns.
private final class Finished: Sendable {
  let flag = Atomic<Bool>(false)
}

/// `pthread_create` failed (for example `EAGAIN`: out of threads).
public struct ThreadStartError: Error, Hashable, Sendable {
  /// The error number `pthread_create` returned.
  public let errno: Int32
}

private final class ThreadBody {
  let body: @Sendable () -> Void
  init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

// Nonisolated on purpose: a closure created in main-actor code and run on a foreign
// pthread traps on Swift 6's isolation check.
private nonisolated func startThread(_ body: @escaping @Sendable () -> Void)
  throws(ThreadStartError)
  -> pthread_t
{
  let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
  var thread = pthread_t()
  let result = pthread_create(
    &thread, nil,
    { context in
      // Safe: context is the passRetained pointer below, handed to exactly this thread.
      Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
      return nil
    }, context)
  guard result == 0 else {
    // Safe: no thread started, so nothing else will balance the retain.
    Unmanaged<ThreadBody>.fromOpaque(context).release()
    throw ThreadStartError(errno: result)
  }
  return thread
}
