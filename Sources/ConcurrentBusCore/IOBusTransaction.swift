import HostSupport

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
  /// The bus's counters, for devices that report failures into its statistics.
  package let counters: ShardedCounters<BusCounter>

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

  /// Removes a registration. Its device is released after the batch's grace period.
  ///
  /// - Throws: ``IOBusError/unknownRegistration(_:)``.
  public mutating func unregister(_ registration: Registration) throws(IOBusError) {
    let handle = try state.remove(registration)
    removed.append(handle)
    log.append(.removed(handle))
  }
}
