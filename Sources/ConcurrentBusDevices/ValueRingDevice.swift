import CValueRing
import ConcurrentBusCore

/// The device behind a ring registration: each write that reaches it is recorded, with its
/// offset, size, value and vCPU index, in the calling vCPU thread's lane of a ``ValueRing``.
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

  /// Records the write as made by vCPU 0: ``write(offset:size:value:vcpu:)``.
  @inline(__always)
  public func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    write(offset: offset, size: size, value: value, vcpu: 0)
  }

  /// Records the write, as made by vCPU `vcpu` (``RingWrite/vcpu``), in the calling
  /// thread's lane and wakes the consumer if the lane was empty. Never blocks and never
  /// allocates (except a thread's first write to this ring, which allocates its lane).
  ///
  /// The lane is the calling thread's: a thread takes one on its first ring write, the lane
  /// of its vCPU index when no live thread holds it (``RingProducer/slot`` then equals
  /// `vcpu`), and keeps it until it exits, so each lane has one writer whatever indices
  /// callers pass. Any `vcpu` is safe: it is recorded as is, and selects a slot only after
  /// a bounds check.
  ///
  /// - Returns: true (claimed) when recorded, or lost to a full lane and reported as a
  ///   ``RingLoss``; false (the bus tries the next entry) when the thread has no producer
  ///   slot or its lane could not be allocated, counted in
  ///   ``ValueRingStatistics/declined``.
  @inline(__always)
  public func write(offset: UInt64, size: Int, value: UInt64, vcpu: Int) -> Bool {
    // The fold keeps a direct caller's bad size in 1...8: out of the sequence bits of the
    // tag, and never 0, which marks a label record.
    let size = (UInt64(truncatingIfNeeded: size) &- 1) & 7 &+ 1
    return value_ring_record(ring, offset, size, value, Int64(truncatingIfNeeded: vcpu)) != 0
  }
}
