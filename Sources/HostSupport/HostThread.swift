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
/// Sendable: the thread id is immutable and `released` makes `join` and `detach` happen
/// once between them.
public final class HostThread: Sendable {
  private let thread: pthread_t
  private let released = Atomic<Bool>(false)
  private let finished: Finished

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

  /// Whether `body` has returned, so that a caller can wait for a thread with a deadline
  /// and leave one that never ends (a stalled grace period) instead of joining it.
  public var hasFinished: Bool {
    // Acquiring: pairs with the releasing store after `body` returns.
    finished.flag.load(ordering: .acquiring)
  }

  /// Waits for the thread to finish; later calls (and calls after ``detach()``) return
  /// immediately.
  public func join() {
    // Acquiring and releasing: pairs with the load in deinit and with the exchange in other
    // joins and in `detach`, so exactly one caller joins or detaches.
    guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
    pthread_join(thread, nil)
  }

  /// Lets the thread release its resources by itself when `body` returns, for a caller
  /// that stops waiting for it (a thread left inside a stalled grace period): nobody will
  /// join it, and it must not count as leaked once it ends. Later joins return at once.
  public func detach() {
    // Acquiring and releasing: pairs with the exchange in `join` and the load in deinit.
    guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
    pthread_detach(thread)
  }

  deinit {
    // Acquiring: pairs with the exchange in `join` and `detach`.
    if !released.load(ordering: .acquiring) { pthread_detach(thread) }
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
