import CValueRing
import ConcurrentBusCore

/// The device behind a ring registration: each write that reaches it is recorded, with its
/// offset, size and value, in the calling vCPU thread's lane of a ``ValueRing``.
///
/// The bus creates it in
/// ``ConcurrentBusCore/IOBusTransaction/registerRing(address:size:match:capacity:wakeup:)``
/// (or the range form) and owns it. When the bus lets go of it, a grace period after its
/// unregister, it seals the ring: no producer can reach the ring any more, and the
/// consumer's iteration ends once it has drained what is left. Holding this device (from
/// ``/ConcurrentBusCore/IOBus/device(of:)``) delays that.
public final class ValueRingDevice: IODevice, @unchecked Sendable {
  // @unchecked: `ring` is the C memory `storage` owns, alive as long as this device; its
  // shared fields are only touched through CValueRing.h's atomic accessors.
  private let ring: OpaquePointer
  private let storage: ValueRingStorage

  init(storage: ValueRingStorage) {
    self.storage = storage
    self.ring = storage.ring
  }

  deinit {
    // The bus releases its device only after a grace period, so every producer that could
    // reach the ring through it is done: sealing now keeps the unregister promise.
    value_ring_seal(ring)
  }

  /// Ring registrations take no reads; the access stays unclaimed.
  public func read(offset: UInt64, size: Int) -> UInt64? { nil }

  /// Records the write in the calling thread's lane and wakes the consumer if the lane was
  /// empty. Never blocks and never allocates (except a thread's first write to this ring,
  /// which allocates its lane).
  ///
  /// - Returns: true (claimed) when recorded, or lost to a full lane and reported as a
  ///   ``RingLoss``; false (the bus tries the next entry) when the thread has no producer
  ///   slot or its lane could not be allocated, counted in
  ///   ``ValueRingStatistics/declined``.
  @inline(__always)
  public func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    // The mask keeps a direct caller's bad size out of the sequence bits of the tag.
    value_ring_record(ring, offset, UInt64(truncatingIfNeeded: size) & 0xF, value) != 0
  }
}
