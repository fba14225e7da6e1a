import Dispatch
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

  @Test func aThreadThatEndsInTimeIsJoined() throws {
    let thread = try startThreads(1, named: "quick") { _ in }[0]
    #expect(thread.join(until: monotonicNanoseconds() + 60_000_000_000))
    #expect(thread.hasFinished)
  }
}
