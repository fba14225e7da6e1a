import ConcurrentBusCore
import RCU

// ioeventfd is a device on the bus, as in KVM's eventfd.c: these registrations go through
// the bus's ordinary value-matched `register`, with an ``IOEventFD`` as the device.

extension IOBusTransaction {
  /// Registers `eventFD` to be signalled (with 1) by every write at `address` that matches
  /// `size` and `match`, with KVM's ioeventfd rules: `size` is 1, 2, 4, 8 or 0 (any size,
  /// with `.any` only); two registrations at one address collide if either has size 0, or
  /// their sizes are equal and either is `.any` or their values are equal.
  ///
  /// The bus keeps `eventFD` open until a grace period after the registration is removed.
  ///
  /// - Throws: as ``/ConcurrentBusCore/IOBusTransaction/register(_:address:size:match:)``.
  public mutating func registerEventFD(
    _ eventFD: EventFD, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    try register(
      IOEventFD(
        eventFD: eventFD, busCounters: attachments.attachment(EventFDCounters.init).shards),
      address: address, size: size, match: match)
  }
}

extension IOBus {
  /// Registers `eventFD` to be signalled by matching writes at `address` (KVM's ioeventfd;
  /// see ``ConcurrentBusCore/IOBusTransaction/registerEventFD(_:address:size:match:)``).
  public func registerEventFD(
    _ eventFD: EventFD, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.registerEventFD(eventFD, address: address, size: size, match: match)
    }
  }
}
