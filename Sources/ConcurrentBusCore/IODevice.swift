/// A device model that handles guest accesses routed to it by an ``IOBus``.
///
/// Both methods are called on vCPU threads, concurrently, inside an RCU read-side section:
/// they must not block for long, and must never register or unregister anything on a bus
/// (the bus reports that as ``IOBusError/insideReadSection``, because waiting for a grace
/// period from inside one deadlocks).
public protocol IODevice: AnyObject, Sendable {
  /// Handles a guest read of `size` bytes (1, 2, 4 or 8) at `offset` from the
  /// registration's base. Returns `nil` to decline, which leaves the access unclaimed.
  func read(offset: UInt64, size: Int) -> UInt64?

  /// Handles a guest write of `size` bytes (1, 2, 4 or 8) at `offset` from the
  /// registration's base. `value` holds only the low `size` bytes. Returns `false` for "not
  /// mine", in which case the bus tries the next entry that covers the access.
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool
}
