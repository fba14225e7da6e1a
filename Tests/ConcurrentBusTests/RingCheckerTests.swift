import BusModel
import ConcurrentBus
import Glibc
import HostSupport
import RCU
import Synchronization
import Testing

/// Every ring suite runs nested in this one, one test at a time: producer slots are
/// process-wide, and the slot-exhaustion test takes them all for a moment.
@Suite("Value rings", .serialized)
struct RingTests {}

extension RingTests {
  /// The checker itself must catch each fault a broken ring or a faulty consumer could
  /// produce; a checker that cannot fail proves nothing.
  @Suite("Delivery checker")
  struct CheckerTests {
    let producer = RingProducer(slot: 3)

    func write(_ sequence: UInt64, _ value: UInt64) -> RingEntry {
      .write(RingWrite(producer: producer, sequence: sequence, offset: 0, size: 4, value: value))
    }

    @Test("an intact stream with a reported loss passes")
    func intactStream() {
      var log = RingDeliveryLog()
      log.record([
        write(0, 10), .lost(RingLoss(producer: producer, sequences: 1..<3)), write(3, 13),
      ])
      #expect(log.violations.isEmpty)
      #expect(log.mismatches(of: producer, claimed: [10, 11, 12, 13]).isEmpty)
      #expect(log.lost == 2)
    }

    @Test("a dropped, duplicated or reordered entry is caught")
    func faultsAreCaught() {
      let streams: [(String, [RingEntry])] = [
        ("drop", [write(0, 10), write(2, 12)]),
        ("duplicate", [write(0, 10), write(1, 11), write(1, 11)]),
        ("reorder", [write(1, 11), write(0, 10)]),
      ]
      for (fault, stream) in streams {
        var log = RingDeliveryLog()
        log.record(stream)
        #expect(!log.violations.isEmpty, "\(fault) not caught")
      }
    }

    @Test("a wrong value, a missing tail or an extra entry is caught")
    func mismatchesAreCaught() {
      var log = RingDeliveryLog()
      log.record([write(0, 10), write(1, 99)])
      #expect(!log.mismatches(of: producer, claimed: [10, 11]).isEmpty)
      #expect(!log.mismatches(of: producer, claimed: [10, 99, 12]).isEmpty)
      #expect(!log.mismatches(of: producer, claimed: [10]).isEmpty)
    }
  }
}

/// A consumer thread that drains a ring after each `EventPoller` wakeup until the ring is
/// finished, checking what it gets as it goes.
final class RingConsumer: Sendable {
  struct Outcome: Sendable {
    var log = RingDeliveryLog()
    /// Poller waits that returned the ring's eventfd.
    var wakeups = 0
    /// Drains right after a wait timed out that still found entries: a lost wakeup.
    var entriesFoundAfterTimeout = 0
    var finished = false
    var failure: String?
  }

  /// What the consumer thread shares with the test.
  private final class Shared: Sendable {
    let outcome = Mutex(Outcome())
    let delivered = Atomic<Int>(0)
  }

  private let shared = Shared()
  private let thread: HostThread

  /// Starts consuming `ring`; a wait that sees nothing for `timeout` is a suspected lost
  /// wakeup. With a `drainDelay`, the consumer pauses that long after each wakeup before it
  /// drains: a consumer slower than a burst of writes.
  init(_ ring: ValueRing, timeout: Duration = .seconds(2), drainDelay: Duration = .zero) throws {
    let shared = self.shared
    thread = try HostThread {
      Self.run(ring, timeout: timeout, drainDelay: drainDelay, shared: shared)
    }
  }

  /// Entries (writes and losses) the consumer has taken so far.
  var deliveredCount: Int { shared.delivered.load(ordering: .acquiring) }

  /// Waits for the ring to finish (the test's time limit bounds this) and returns what the
  /// consumer saw.
  func finish() -> Outcome {
    thread.join()
    return shared.outcome.withAnnotatedLock(owner: shared) { $0 }
  }

  private static func run(
    _ ring: ValueRing, timeout: Duration, drainDelay: Duration, shared: Shared
  ) {
    var local = Outcome()
    defer {
      let result = local
      shared.outcome.withAnnotatedLock(owner: shared) { $0 = result }
    }
    do {
      let poller = try EventPoller()
      try poller.add(ring)
      var batch: [RingEntry] = []
      var timedOut = false
      while true {
        let state = ring.drain(into: &batch)
        if timedOut && !batch.isEmpty { local.entriesFoundAfterTimeout += 1 }
        local.log.record(batch)
        shared.delivered.add(batch.count, ordering: .releasing)
        batch.removeAll(keepingCapacity: true)
        if state == .finished {
          local.finished = true
          return
        }
        let ready = try poller.wait(timeout: timeout)
        timedOut = ready.isEmpty
        if !timedOut { local.wakeups += 1 }
        if drainDelay > .zero {
          let (seconds, attoseconds) = drainDelay.components
          usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        }
      }
    } catch {
      local.failure = "\(error)"
    }
  }
}
