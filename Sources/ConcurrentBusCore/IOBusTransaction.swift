/// A batch of registrations, moves and unregistrations, applied all together or not at all.
///
/// Handed to the body of ``IOBus/update(reclaim:_:)-76alb``. A batch is judged on the table
/// it ends with, not step by step: each operation checks only itself (a size, a value, a
/// range that would wrap past 2^64, a registration that is not on the bus as the batch has
/// left it so far), and when the body returns the bus checks the resulting table as a whole
/// (overlapping ranges, colliding value matches, the address space, ``IOBus/maximumEntries``).
/// So two BARs can swap places, a chain of moves can shift ranges onto each other's old
/// places, and a range can be unregistered and registered again, in any order, in one
/// publish. If any operation throws, the body throws, or the end state breaks a rule,
/// nothing of the batch reaches the bus; a broken rule is thrown as the first one found
/// (see ``IOBusError``), naming the entries by what the caller knows of them.
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
  /// Where the batch's moved entries come from, to name them in errors.
  private(set) var origins: BatchOrigins
  /// What the layers above keep for this bus, for the devices a batch creates.
  package let attachments: BusAttachments

  init(state: BusState, attachments: BusAttachments) {
    self.state = state
    self.attachments = attachments
    origins = BatchOrigins(firstID: state.nextID)
  }

  /// Checks the table the batch ends with (see ``IOBusTransaction``). Throws the first
  /// broken rule; changes nothing.
  func checkEndState() throws(IOBusError) {
    try state.checkEndState(log, origins: origins)
  }

  /// The bus's address space.
  public var space: IOAddressSpace { state.space }

  /// Registers `device` for every access of 1 to 8 bytes inside `[base, base + length)`.
  ///
  /// - Throws: ``IOBusError/emptyRange``, ``IOBusError/rangeWrapsAround(base:length:)``
  ///   here; ``IOBusError/outsideAddressSpace(base:length:)``,
  ///   ``IOBusError/rangesOverlap(_:_:)`` and ``IOBusError/tableFull(limit:)`` from
  ///   ``IOBus/update(reclaim:_:)-76alb`` if the batch ends that way.
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
  ///   ``IOBusError/rangeWrapsAround(base:length:)`` (when `address + size` reaches 2^64)
  ///   here; ``IOBusError/outsideAddressSpace(base:length:)``,
  ///   ``IOBusError/matchesCollide(_:_:)`` and ``IOBusError/tableFull(limit:)`` from
  ///   ``IOBus/update(reclaim:_:)-76alb`` if the batch ends that way.
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
  /// there, as a new registration does. The new place may be taken while the batch runs (by
  /// a range the batch moves away later, say): only the end state is checked.
  ///
  /// - Throws: ``IOBusError/unknownRegistration(_:)``,
  ///   ``IOBusError/registrationFromAnotherBus(_:)``, and what registering at `address`
  ///   throws; on error the registration stays where it was.
  public mutating func move(_ registration: Registration, to address: UInt64) throws(IOBusError)
    -> Registration
  {
    let (old, moved) = try state.move(registration, to: address)
    if let origin = origins.origin(of: registration) { origins.moves[moved.id] = origin }
    replaced.append(old)
    log.append(.removed(old))
    log.append(.added(moved))
    return moved
  }
}
