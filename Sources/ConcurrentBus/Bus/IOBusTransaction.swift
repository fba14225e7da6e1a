import RCU

/// A batch of registrations and unregistrations, applied all together or not at all.
///
/// Handed to the body of ``IOBus/update(reclaim:_:)``. Each operation is validated against
/// the state as the batch has changed it so far (a batch may unregister a device and
/// register another in its place); if any operation throws, or the body throws, nothing of
/// the batch reaches the bus.
public struct IOBusTransaction: ~Copyable {
  /// The bus's own writer state, moved in for the batch: changed in place (no copy of the
  /// table or of the handles), and rolled back from `log` if the batch fails.
  var state: BusState
  var removed: [DeviceHandle] = []
  private(set) var log: [BusState.Step] = []
  let counters: ShardedCounters<BusCounter>

  init(state: BusState, counters: ShardedCounters<BusCounter>) {
    self.state = state
    self.counters = counters
  }

  /// Registers `device` for every access inside `[base, base + length)`.
  ///
  /// - Throws: ``IOBusError/emptyRange``, ``IOBusError/rangeWrapsAround(base:length:)``,
  ///   ``IOBusError/overlapsExisting(_:)``.
  public mutating func register(
    _ device: any IODevice, base: UInt64, length: UInt64
  ) throws(IOBusError) -> Registration {
    let registration = try state.addRange(device, base: base, length: length)
    log.append(.added(registration))
    return registration
  }

  /// Registers `device` for writes at exactly `address` whose size and value match, as KVM's
  /// ioeventfd does. `size` is 1, 2, 4, 8, or 0 for any size (which needs `.any`).
  ///
  /// - Throws: ``IOBusError/invalidSize(_:)``, ``IOBusError/valueMatchNeedsSize``,
  ///   ``IOBusError/valueTooWide(value:size:)``, ``IOBusError/rangeWrapsAround(base:length:)``,
  ///   ``IOBusError/collidesWith(_:)``.
  public mutating func register(
    _ device: any IODevice, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    let registration = try state.addValueMatch(device, address: address, size: size, match: match)
    log.append(.added(registration))
    return registration
  }

  /// Registers `eventFD` to be signalled (with 1) by every write at `address` that matches
  /// `size` and `match`, with KVM's ioeventfd rules: `size` is 1, 2, 4, 8 or 0 (any size,
  /// with `.any` only); two registrations at one address collide if either has size 0, or
  /// their sizes are equal and either is `.any` or their values are equal.
  ///
  /// The bus keeps `eventFD` open until a grace period after the registration is removed.
  ///
  /// - Throws: as ``register(_:address:size:match:)``.
  public mutating func registerEventFD(
    _ eventFD: EventFD, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    let device = IOEventFD(eventFD: eventFD, busCounters: counters)
    let registration = try state.addValueMatch(device, address: address, size: size, match: match)
    log.append(.added(registration))
    return registration
  }

  /// Removes a registration. Its device is released after the batch's grace period.
  ///
  /// - Throws: ``IOBusError/unknownRegistration(_:)``.
  public mutating func unregister(_ registration: Registration) throws(IOBusError) {
    let handle = try state.remove(registration)
    removed.append(handle)
    log.append(.removed(handle))
  }
}
