import Dispatch
import Glibc
import Testing

@testable import StressKit

/// A run gives up on a thread it cannot wait for (one inside a stalled grace period); the
/// thread must then let go of itself when it ends, not stay behind unjoined (what
/// ThreadSanitizer reports as a leaked thread).
@Suite("Run threads")
struct RunThreadTests {
  @Test func aThreadGivenUpOnIsDetachedSoALaterJoinDoesNotWait() throws {
    let release = DispatchSemaphore(value: 0)
    let thread = try startThreads(1, named: "blocked") { _ in release.wait() }[0]
    #expect(!thread.join(until: 0))
    // Detached: a join now returns at once although the thread is still blocked (without
    // the detach it would wait for the thread, and the bounded wait below would fail).
    let joinReturned = finishes(by: monotonicNanoseconds() + 10_000_000_000) { thread.join() }
    release.signal()
    #expect(joinReturned)
  }

  /// A thread whose body returned can still block in its exit (a thread-local destructor:
  /// an RCU flavor's unregistration waiting for the registry lock); a join with a deadline
  /// must not wait for it past the deadline.
  @Test func aThreadStillEndingAfterItsBodyReturnedIsNotWaitedForPastTheDeadline() throws {
    let thread = try startThreads(1, named: "ending") { _ in
      _ = pthread_setspecific(exitBlockingKey, UnsafeRawPointer(bitPattern: 1))
    }[0]
    for _ in 0..<60_000 where !thread.hasFinished { usleep(1000) }
    #expect(thread.hasFinished)
    #expect(!thread.tryJoin())
    // Bounded: without the non-blocking join this waits for the exit, i.e. for the signal
    // below, and the outer wait gives up after 10 s.
    let joined = result(by: monotonicNanoseconds() + 10_000_000_000) {
      thread.join(until: monotonicNanoseconds() + 50_000_000)
    }
    exitGate.signal()
    #expect(joined == false)
  }

  @Test func aThreadThatEndsInTimeIsJoined() throws {
    let thread = try startThreads(1, named: "quick") { _ in }[0]
    #expect(thread.join(until: monotonicNanoseconds() + 60_000_000_000))
    #expect(thread.hasFinished)
  }
}

/// Holds a thread in its exit until signalled.
private let exitGate = DispatchSemaphore(value: 0)

/// A thread-local key whose destructor waits at `exitGate`: a thread that set it blocks in
/// its exit, after its body returned.
private let exitBlockingKey: pthread_key_t = {
  var key = pthread_key_t()
  _ = pthread_key_create(&key) { _ in exitGate.wait() }
  return key
}()
