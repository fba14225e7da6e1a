import ConcurrentBus
import Glibc
import HostSupport
import StressKit
import Synchronization

/// The ring's consumer: a thread that drains after each `EventPoller` wakeup until the ring
/// is finished, counting wakeups and entries.
final class RingBenchConsumer: Sendable {
  private final class Counts: Sendable {
    let delivered = Atomic<Int>(0)
    let wakeups = Atomic<Int>(0)
  }

  private let counts = Counts()
  private let thread: HostThread

  /// Starts the consumer of `ring`.
  init(_ ring: ValueRing) throws {
    let poller = try EventPoller()
    try poller.add(ring)
    let counts = self.counts
    thread = try HostThread {
      var batch: [RingEntry] = []
      batch.reserveCapacity(1 << 14)
      while ring.drain(into: &batch) == .open {
        // Releasing: pairs with the acquiring load in `awaitDelivered`.
        counts.delivered.add(Self.writes(in: batch), ordering: .releasing)
        batch.removeAll(keepingCapacity: true)
        guard let ready = try? poller.wait(timeout: nil) else { return }
        // Releasing: pairs with the acquiring load in `wakeups`.
        if !ready.isEmpty { counts.wakeups.add(1, ordering: .releasing) }
      }
      // Releasing: pairs with the acquiring load in `awaitDelivered`.
      counts.delivered.add(Self.writes(in: batch), ordering: .releasing)
    }
  }

  /// The writes `batch` accounts for, lost ones included.
  private static func writes(in batch: [RingEntry]) -> Int {
    batch.reduce(0) { $0 + $1.sequences.count }
  }

  /// Poller waits that returned the ring's eventfd so far.
  var wakeups: Int {
    // Acquiring: pairs with the consumer's releasing add.
    counts.wakeups.load(ordering: .acquiring)
  }

  /// Waits (yielding) until `count` writes have been delivered or reported lost.
  func awaitDelivered(_ count: Int) throws(SetupFailure) {
    let deadline = monotonicNanos() + 10_000_000_000
    // Acquiring: pairs with the consumer's releasing adds.
    while counts.delivered.load(ordering: .acquiring) < count {
      guard monotonicNanos() < deadline else {
        throw SetupFailure(
          message: "ring bench: the consumer stopped receiving writes (a lost wakeup?)")
      }
      sched_yield()
    }
  }

  /// Waits for the consumer to finish (after the ring's registration is gone).
  func join() { thread.join() }
}
