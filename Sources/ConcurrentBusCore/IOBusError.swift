/// Mistakes a caller can make with an ``IOBus``. Whenever one is thrown, the bus is exactly
/// as it was before the call (and before the whole batch, inside ``IOBus/update(_:)``).
public enum IOBusError: Error, Hashable, Sendable {
  /// A range registration with length 0.
  case emptyRange
  /// `base + length` (or `address + size`) goes past 2^64.
  case rangeWrapsAround(base: UInt64, length: UInt64)
  /// A range registration overlaps an existing range registration.
  case overlapsExisting(Registration)
  /// A value-matched size other than 0, 1, 2, 4 or 8.
  case invalidSize(Int)
  /// A value match with size 0 (any size): KVM rejects it too, since the value's width
  /// would be unknown.
  case valueMatchNeedsSize
  /// A matched value that does not fit in `size` bytes, so no write could ever match it.
  case valueTooWide(value: UInt64, size: Int)
  /// A value-matched registration collides with an existing one under KVM's ioeventfd rules
  /// (same address, and either size is 0, or equal sizes with either side `.any` or equal
  /// values).
  case collidesWith(Registration)
  /// The registration is not on this bus: never was, or already unregistered (also within
  /// the same batch).
  case unknownRegistration(Registration)
  /// A register, unregister or batch was attempted inside an RCU read-side section (for
  /// example from a device callback), where waiting for a grace period would deadlock.
  case insideReadSection
}
