import ConcurrentBusCore
import RCU

// A ring is a device on the bus, like an ioeventfd: these registrations go through the
// bus's ordinary `register` calls, with a ``ValueRingDevice`` as the device.

extension IOBusTransaction {
  /// Registers a ring that captures every write at `address` matching `size` and `match`
  /// (KVM's ioeventfd rules, as ``registerEventFD(_:address:size:match:)``: `size` is 1, 2,
  /// 4, 8 or 0 for any size, which needs `.any`; colliding registrations are refused).
  ///
  /// - Parameters:
  ///   - address: The guest address a write must hit exactly.
  ///   - size: The write's size in bytes: 1, 2, 4, 8, or 0 for any size from 1 to 8.
  ///   - match: `.any` value, or only writes of this value (in the low `size` bytes).
  ///   - capacity: Records each producer's lane holds before writes are lost (reported as
  ///     ``RingLoss``); rounded up to a power of two, clamped to 2...65536.
  ///   - wakeup: The eventfd to signal when a lane goes from empty to non-empty and when the
  ///     ring is sealed. The bus keeps it open until a grace period after the unregister.
  /// - Returns: The ring to drain. If the batch fails, the ring is finished at once.
  /// - Throws: as ``/ConcurrentBusCore/IOBusTransaction/register(_:address:size:match:)``.
  public mutating func registerRing(
    address: UInt64, size: Int, match: ValueMatch, capacity: Int = 256, wakeup: EventFD
  ) throws(IOBusError) -> ValueRing {
    let storage = ValueRingStorage(capacity: capacity, eventFD: wakeup)
    let registration = try register(
      ValueRingDevice(storage: storage), address: address, size: size, match: match)
    return ValueRing(registration: registration, storage: storage)
  }

  /// Registers a ring that captures every write inside `[base, base + length)`, each
  /// recorded with its offset from `base`. Reads of the range are left unclaimed.
  ///
  /// - Parameters: as ``registerRing(address:size:match:capacity:wakeup:)``.
  /// - Throws: as ``/ConcurrentBusCore/IOBusTransaction/register(_:base:length:)``.
  public mutating func registerRing(
    base: UInt64, length: UInt64, capacity: Int = 256, wakeup: EventFD
  ) throws(IOBusError) -> ValueRing {
    let storage = ValueRingStorage(capacity: capacity, eventFD: wakeup)
    let registration = try register(ValueRingDevice(storage: storage), base: base, length: length)
    return ValueRing(registration: registration, storage: storage)
  }
}

extension IOBus {
  /// Registers a ring capturing the writes at `address` that match `size` and `match`; see
  /// ``ConcurrentBusCore/IOBusTransaction/registerRing(address:size:match:capacity:wakeup:)``.
  public func registerRing(
    address: UInt64, size: Int, match: ValueMatch, capacity: Int = 256, wakeup: EventFD
  ) throws(IOBusError) -> ValueRing {
    let storage = ValueRingStorage(capacity: capacity, eventFD: wakeup)
    let device = ValueRingDevice(storage: storage)
    let registration = try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.register(device, address: address, size: size, match: match)
    }
    return ValueRing(registration: registration, storage: storage)
  }

  /// Registers a ring capturing the writes inside `[base, base + length)`; see
  /// ``ConcurrentBusCore/IOBusTransaction/registerRing(base:length:capacity:wakeup:)``.
  public func registerRing(
    base: UInt64, length: UInt64, capacity: Int = 256, wakeup: EventFD
  ) throws(IOBusError) -> ValueRing {
    let storage = ValueRingStorage(capacity: capacity, eventFD: wakeup)
    let device = ValueRingDevice(storage: storage)
    let registration = try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.register(device, base: base, length: length)
    }
    return ValueRing(registration: registration, storage: storage)
  }
}
