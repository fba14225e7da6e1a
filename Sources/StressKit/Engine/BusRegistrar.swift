import ConcurrentBus
import RCU

/// The registration calls a bus offers both ways: one publish per call (``IOBus``) and
/// inside a batch (``IOBusTransaction``), so a hotplug target registers a slot's devices with
/// one piece of code and exercises both. Not copyable, as a batch is not.
protocol BusRegistrar: ~Copyable {
  /// As `registerEventFD(_:address:size:match:)` of the bus or the batch.
  mutating func registerEventFD(
    _ eventFD: EventFD, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration

  /// As `register(_:base:length:)` of the bus or the batch.
  mutating func register(_ device: any IODevice, base: UInt64, length: UInt64)
    throws(IOBusError) -> Registration

  /// As `registerRing(address:size:match:capacity:wakeup:)` of the bus or the batch.
  mutating func registerRing(
    address: UInt64, size: Int, match: ValueMatch, capacity: Int, wakeup: EventFD
  ) throws(IOBusError) -> ValueRing

  /// As `registerRing(base:length:capacity:wakeup:)` of the bus or the batch.
  mutating func registerRing(base: UInt64, length: UInt64, capacity: Int, wakeup: EventFD)
    throws(IOBusError) -> ValueRing
}

extension IOBus: BusRegistrar {}
extension IOBusTransaction: BusRegistrar {}
