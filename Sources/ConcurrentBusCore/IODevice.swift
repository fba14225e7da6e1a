/// A device model that handles guest accesses routed to it by an ``IOBus``.
///
/// All four methods are called on vCPU threads, concurrently, inside an RCU read-side
/// section: they must not block for long. They may change buses, this one or another, with
/// everything that never waits for a grace period: register, move, unregister with
/// `whenReleased:`, and `.deferred` batches (a PCI config write moving a BAR, a virtio
/// status write turning queue notifiers on or off). A synchronous unregister there throws
/// ``IOBusError/insideReadSection`` instead of deadlocking.
///
/// The bus calls the forms that name the accessing vCPU (``write(offset:size:value:vcpu:)``,
/// ``read(offset:size:vcpu:)``). A device that does not care which vCPU is accessing
/// implements only ``write(offset:size:value:)`` and ``read(offset:size:)``: the default
/// vCPU forms call them. A per-vCPU device (a doorbell per vCPU, a local interrupt
/// controller page at one address for every vCPU) implements the vCPU forms too.
public protocol IODevice: AnyObject, Sendable {
  /// Handles a guest read of `size` bytes (1 to 8) at `offset` from the registration's
  /// base. Returns `nil` to decline, which leaves the access unclaimed.
  func read(offset: UInt64, size: Int) -> UInt64?

  /// Handles a guest write of `size` bytes (1 to 8) at `offset` from the registration's
  /// base. `value` holds only the low `size` bytes. Returns `false` for "not mine", in which
  /// case the bus tries the next entry that covers the access.
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool

  /// Handles a guest read made by vCPU `vcpu`: the index the caller passed to
  /// ``IOBus/read(address:size:vcpu:)`` (0 through the three-argument form), as is, never
  /// checked: a device that indexes a table with it must bound it first.
  func read(offset: UInt64, size: Int, vcpu: Int) -> UInt64?

  /// Handles a guest write made by vCPU `vcpu`: the index the caller passed to
  /// ``IOBus/write(address:size:value:vcpu:)`` (0 through the three-argument form), as is,
  /// never checked: a device that indexes a table with it must bound it first.
  func write(offset: UInt64, size: Int, value: UInt64, vcpu: Int) -> Bool
}

extension IODevice {
  /// Calls ``read(offset:size:)``: the device does not care which vCPU reads.
  @inlinable @inline(__always)
  public func read(offset: UInt64, size: Int, vcpu: Int) -> UInt64? {
    read(offset: offset, size: size)
  }

  /// Calls ``write(offset:size:value:)``: the device does not care which vCPU writes.
  @inlinable @inline(__always)
  public func write(offset: UInt64, size: Int, value: UInt64, vcpu: Int) -> Bool {
    write(offset: offset, size: size, value: value)
  }
}
