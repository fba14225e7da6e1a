/// A batch of registrations, moves and unregistrations, applied all together or not at all.
///
/// Handed to the body of ``IOBus/update(reclaim:_:)-76alb``. Each operation is validated against
/// the state as the batch has changed it so far (a batch may unregister a device and
/// register another in its place); if any operation throws, or the body throws, nothing of
/// the batch reaches the bus.
public struct IOBusTransaction: ~Copyable {
  /// The bus's own writer state, moved in for the batch: changed in place (no copy of the
  /// table or of the handles), and rolled back from `log` if the batch fails.
  var state: BusState
  /// Devices the batch took off the bus: released after a grace period, which a
  /// synchronous batch waits for.
  var removed: [DeviceHandle] = []
  /// Handles a move replaced: their device stays on the bus, so nobody waits for them, but
  /// older snapshots still point at them until a grace period has passed.
  var replaced: [DeviceHandle] = []
  private(set) var log: [BusState.Step] = []
  /// What the layers above keep for this bus, for the devices a batch creates.
  package let attachments: BusAttachments

  init(state: BusState, attachments: BusAttachments) {
    self.state = state
    self.attachments = attachments
  }

  /// The bus's address space.
  public var space: IOAddressSpace { state.space }

  /// Registers `device` for every access of 1 to 8 bytes inside `[base, base + length)`.
  ///
  /// - Throws: ``IOBusError/emptyRange``, ``IOBusError/rangeWrapsAround(base:length:)``,
  ///   ``IOBusError/outsideAddressSpace(base:length:)``, ``IOBusError/overlapsExisting(_:)``.
  public mutating func register(
    _ device: any IODevice, base: UInt64, length: UInt64
  ) throws(IOBusError) -> Registration {
    let registration = try state.add(device, as: .range(base: base, length: length))
    log.append(.added(registration))
    return registration
  }

  /// Registers `device` for writes at exactly `address` whose size and value match, as KVM's
  /// ioeventfd does. `size` is 1, 2, 4, 8, or 0 for any length from 1 to 8 (which needs
  /// `.any`, and an MMIO bus).
  ///
  /// - Throws: ``IOBusError/invalidSize(_:)``, ``IOBusError/valueMatchNeedsSize``,
  ///   ``IOBusError/valueTooWide(value:size:)``, ``IOBusError/anySizeOnPortIO``,
  ///   ``IOBusError/rangeWrapsAround(base:length:)`` (when `address + size` reaches 2^64),
  ///   ``IOBusError/outsideAddressSpace(base:length:)``, ``IOBusError/collidesWith(_:)``.
  public mutating func register(
    _ device: any IODevice, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    let registration = try state.add(
      device, as: .valueMatch(address: address, size: size, match: match))
    log.append(.added(registration))
    return registration
  }

  /// Removes a registration. Its device is released after the batch's grace period.
  ///
  /// - Throws: ``IOBusError/unknownRegistration(_:)``,
  ///   ``IOBusError/registrationFromAnotherBus(_:)``.
  public mutating func unregister(_ registration: Registration) throws(IOBusError) {
    let handle = try state.remove(registration)
    removed.append(handle)
    log.append(.removed(handle))
  }

  /// Moves a registration to `address` (a range's new base, a value match's new address),
  /// keeping its device, size and match, and returns the registration that replaces it.
  ///
  /// The move reaches readers in the batch's one publish: every access sees the device at
  /// the old place or at the new one, never at neither. Nothing waits for a grace period on
  /// its account (the device stays registered), so moves are allowed inside a read-side
  /// section, synchronous batch or not. The old registration is gone afterwards; the new one
  /// has a new identifier and, at a shared address, dispatches after the entries already
  /// there, as a new registration does.
  ///
  /// - Throws: ``IOBusError/unknownRegistration(_:)``,
  ///   ``IOBusError/registrationFromAnotherBus(_:)``, and what registering at `address`
  ///   throws; on error the registration stays where it was.
  public mutating func move(_ registration: Registration, to address: UInt64) throws(IOBusError)
    -> Registration
  {
    let (old, moved) = try state.move(registration, to: address)
    replaced.append(old)
    log.append(.removed(old))
    log.append(.added(moved))
    return moved
  }
}
