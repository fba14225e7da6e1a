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
/// Sendable: the thread id is immutable and `joined` makes `join` idempotent.
public final class HostThread: Sendable {
  private let thread: pthread_t
  private let joined = Atomic<Bool>(false)
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

  /// Waits for the thread to finish; later calls return immediately.
  public func join() {
    // Acquiring and releasing: pairs with the load in deinit and with other joins, so exactly
    // one caller joins and deinit never detaches a joined thread.
    guard !joined.exchange(true, ordering: .acquiringAndReleasing) else { return }
    pthread_join(thread, nil)
  }

  deinit {
    // Acquiring: pairs with the exchange in `join`.
    if !joined.load(ordering: .acquiring) { pthread_detach(thread) }
  }
}

extension HostThread {
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
