/// Mistakes a caller can make with an ``IOBus``. Whenever one is thrown, the bus is exactly
/// as it was before the call (and before the whole batch, inside ``IOBus/update(reclaim:_:)-76alb``).
///
/// Errors print as registrations do: addresses in hex, ranges as `[0x3f8, +0x8)`, and the
/// entries of a conflict by what the caller knows of them (see ``Entry``).
public enum IOBusError: Error, Hashable, Sendable {
  /// A range registration with length 0.
  case emptyRange
  /// The registration's last byte would pass 2^64: `base + length - 1` for a range (which
  /// may end exactly at 2^64), `address + size` for a value match (which may not: KVM
  /// refuses an ioeventfd whose `addr + len` wraps to 0 with `EINVAL`, and so does the bus).
  case rangeWrapsAround(base: UInt64, length: UInt64)
  /// A registration of the table the update would end with reaches past the bus's address
  /// space: a port-I/O bus (``IOAddressSpace/portIO``) covers ports 0 through 0xFFFF only.
  case outsideAddressSpace(base: UInt64, length: UInt64)
  /// Two ranges of the table the update would end with overlap: the first such pair in
  /// table order (by base), lower base first.
  case rangesOverlap(Entry, Entry)
  /// A value-matched size other than 0, 1, 2, 4 or 8.
  case invalidSize(Int)
  /// A value match with size 0 (any size): KVM rejects it too, since the value's width
  /// would be unknown.
  case valueMatchNeedsSize
  /// A size-0 (any length) value match on a port-I/O bus, which upstream KVM refuses for
  /// port-I/O ioeventfds.
  case anySizeOnPortIO
  /// A matched value that does not fit in `size` bytes, so no write could ever match it.
  ///
  /// Deliberately stricter than KVM, which accepts such an ioeventfd and never signals it:
  /// a registration that can never match is a caller's mistake worth reporting.
  case valueTooWide(value: UInt64, size: Int)
  /// Two value-matched registrations of the table the update would end with collide under
  /// KVM's ioeventfd rules (same address, and either size is 0, or equal sizes with either
  /// side `.any` or equal values): the first such pair in table order (by address, then
  /// registration order), earlier first.
  case matchesCollide(Entry, Entry)
  /// The update would leave more entries on the bus than the `maximumEntries` it was
  /// created with (``IOBus/maximumEntries``): KVM's `ENOSPC`, with the limit chosen at run
  /// time.
  case tableFull(limit: Int)
  /// The registration is not on this bus: already unregistered or moved (also within the
  /// same batch), or its address and kind do not match the live registration's.
  case unknownRegistration(Registration)
  /// The registration was issued by another bus. Each bus numbers its registrations on its
  /// own, so this is refused rather than removing this bus's registration of that number.
  case registrationFromAnotherBus(Registration)
  /// A synchronous unregister, or a synchronous batch that removes a device, was attempted
  /// inside an RCU read-side section (for example from a device callback): it would have
  /// to wait for a grace period, which cannot end while the caller's own section is open.
  /// Unregister with `unregister(_:whenReleased:)` or `update(reclaim: .deferred(...))`
  /// there instead; registering and moving never wait and are allowed.
  case insideReadSection
  /// A bus was called from inside an ``IOBus/update(reclaim:_:)-76alb`` body, which holds its bus's
  /// writer lock: the same bus would lock itself (its `Mutex` is not recursive), another bus
  /// could deadlock against a thread locking the two in the opposite order. Do the work in
  /// the batch itself, or after `update` returns.
  case insideUpdate
}
