import CValueRing
import ConcurrentBusCore
import RCU
import Synchronization

/// The consumer side of a value-capturing registration: the guest writes a ring
/// registration claimed, with their offsets, sizes and values, in each vCPU's order.
///
/// Create one with
/// ``ConcurrentBusCore/IOBus/registerRing(address:size:match:capacity:wakeup:)`` (an exact
/// address, with ioeventfd's size and value rules) or
/// ``ConcurrentBusCore/IOBus/registerRing(base:length:capacity:wakeup:)`` (a range), or in
/// a batch with the ``ConcurrentBusCore/IOBusTransaction`` forms. vCPU threads append to a
/// lane of their own (a single-producer ring, no lock, no cache line shared between vCPUs);
/// a lane that goes from empty to non-empty signals ``eventFD`` once, so a burst of writes
/// costs the consumer one wakeup. One consumer drains the lanes, with ``drain(into:)``
/// after each wakeup (from an ``EventPoller``, say) or through ``entries()``, an
/// `AsyncSequence`.
///
/// **Order.** Each producer's entries come in the order it wrote, numbered 0, 1, 2, ...
/// (``RingWrite/sequence``); entries of different producers are not ordered with each other.
///
/// **A full lane** never blocks the vCPU and never drops silently: the write is still claimed,
/// its value is lost, and the consumer gets a ``RingLoss`` at exactly that place in the
/// producer's sequence. This keeps the vCPU's cost bounded and each producer's order intact;
/// falling back to a synchronous device call instead would deliver that value ahead of the
/// ones still queued. Size ``capacity`` for the longest burst the consumer may lag behind.
///
/// **Unregister.** When the registration's unregister returns, no vCPU can add to the ring,
/// and everything recorded before is still delivered exactly once: the bus lets go of the
/// ring's device after the grace period, which seals the ring, and a drain that finds the
/// ring sealed reports ``DrainState/finished`` once it has emptied every lane. (After a
/// move, the handle the move replaced is released after its own grace period, in the
/// background: the seal may then come shortly after the unregister returns.)
///
/// ```swift
/// let bus = IOBus()
///
/// // A UART's transmit register: every byte the guest writes, in order, off the vCPU.
/// let transmit = try bus.registerRing(
///   address: 0x3F8, size: 1, match: .any, capacity: 256, wakeup: EventFD())
/// let consumer = Task {
///   var text = ""
///   for await entry in try transmit.entries() {
///     switch entry {
///     case .write(let write): text.append(Character(Unicode.Scalar(UInt8(write.value))))
///     case .lost(let loss): text.append("[\(loss.count) lost]")
///     }
///   }
///   return text  // once the registration is gone and every byte is delivered
/// }
///
/// // vCPU threads: a claimed write is one append to the thread's own lane.
/// for byte in "hello".utf8 { _ = bus.write(address: 0x3F8, size: 1, value: UInt64(byte)) }
///
/// try bus.unregister(transmit.registration)
/// try await consumer.value  // "hello"
/// ```
///
/// (Tests/ConcurrentBusTests/RingExampleTests.swift runs this example.) With an
/// ``EventPoller`` instead, add the ring to the poller, and after each wait that reports its
/// ``eventFD``, call ``drain(into:)``, until it returns ``DrainState/finished``.
///
/// **For checkers.** Every entry names its ``RingProducer`` and carries sequence numbers: per
/// producer they must run 0, 1, 2, ... with each number reported exactly once, as a
/// ``RingWrite`` or inside a ``RingLoss``. A vCPU thread learns the producer its records
/// carry from ``RingProducer/current``; the bus's ``/ConcurrentBusCore/DispatchResult`` tells it which of its
/// writes the ring claimed. Then the k-th claimed write of that thread must be the entry
/// with sequence k, and no other write of it may appear. (A slot passes to another thread
/// only after its holder exits, and the lane's sequence then continues: keep vCPU threads
/// alive for the whole check, or log which thread held which slot when.)
public final class ValueRing: Sendable {
  /// Whether a drain may find more later.
  public enum DrainState: Hashable, Sendable {
    /// The ring is registered (or its device not yet released): more may come.
    case open
    /// The ring is sealed and drained: nothing will ever come again.
    case finished
  }

  /// The registration that feeds the ring, as registered. Moving it on the bus
  /// (``/ConcurrentBusCore/IOBusTransaction/move(_:to:)``) keeps the same device, so the ring
  /// keeps capturing; the move returns the registration to use from then on.
  public let registration: Registration
  /// Records per producer lane (the requested capacity, rounded up to a power of two).
  public let capacity: Int
  let storage: ValueRingStorage
  /// Whether a drain has reported ``DrainState/finished``. One consumer at a time: the lanes'
  /// consumer fields are only touched under this lock.
  private let consumer = Mutex(false)

  init(registration: Registration, storage: ValueRingStorage) {
    self.registration = registration
    self.capacity = storage.capacity
    self.storage = storage
  }

  /// The eventfd producers signal when a lane goes from empty to non-empty, and the bus
  /// signals when it seals the ring.
  public var eventFD: EventFD { storage.eventFD }

  /// Moves every entry recorded so far to the end of `entries`, without waiting.
  ///
  /// One consumer at a time: concurrent calls are serialized. Call it after each wakeup of
  /// ``eventFD`` (read or drain the eventfd first, then the ring, or a wakeup can be missed);
  /// once it returns ``DrainState/open``, the next write to any lane signals ``eventFD``.
  ///
  /// - Returns: ``DrainState/finished`` once the ring is sealed and everything recorded has
  ///   been delivered (the drain that first reports it may still append entries).
  @discardableResult
  public func drain(into entries: inout [RingEntry]) -> DrainState {
    consumer.withAnnotatedLock(owner: self) { finished in
      if finished { return .finished }
      // Read the seal first: if it is set, every record is already visible (the seal was
      // stored after the bus's grace period), so this drain empties the ring for good.
      let sealed = value_ring_is_sealed(storage.ring) != 0
      storage.drainLanes(into: &entries)
      finished = sealed
      return sealed ? .finished : .open
    }
  }

  /// Whether a drain has reported ``DrainState/finished``.
  public var isFinished: Bool {
    consumer.withAnnotatedLock(owner: self) { $0 }
  }

  /// The producers that have written to this ring (each has a lane).
  public var producers: [RingProducer] {
    storage.lanes.map { RingProducer(slot: $0.slot) }
  }

  /// What the ring's producers did so far, summed over their lanes; may miss writes under
  /// way.
  public var statistics: ValueRingStatistics {
    var totals = ValueRingStatistics(
      recorded: 0, lost: 0, wakeups: 0, failedWakeups: 0,
      declined: value_ring_declined(storage.ring))
    for (_, lane) in storage.lanes {
      let counts = value_ring_lane_counts(lane)
      totals.recorded += counts.recorded
      totals.lost += counts.lost
      totals.wakeups += counts.wakeups
      totals.failedWakeups += counts.failed_wakeups
    }
    return totals
  }
}
