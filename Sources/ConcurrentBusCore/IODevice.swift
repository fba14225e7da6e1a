/// A device model that handles guest accesses routed to it by an ``IOBus``.
///
/// Both methods are called on vCPU threads, concurrently, inside an RCU read-side section:
/// they must not block for long. They may change buses, this one or another, with
/// everything that never waits for a grace period: register, move, unregister with
/// `whenReleased:`, and `.deferred` batches (a PCI config write moving a BAR, a virtio
/// status write turning queue notifiers on or off). A synchronous unregister there throws
/// ``IOBusError/insideReadSection`` instead of deadlocking.
public protocol IODevice: AnyObject, Sendable {
  /// Handles a guest read of `size` bytes (1 to 8) at `offset` from the registration's
  /// base. Returns `nil` to decline, which leaves the access unclaimed.
  func read(offset: UInt64, size: Int) -> UInt64?

  /// Handles a guest write of `size` bytes (1 to 8) at `offset` from the registration's
  /// base. `value` holds only the low `size` bytes. Returns `false` for "not mine", in which
  /// case the bus tries the next entry that covers the access.
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool
}
