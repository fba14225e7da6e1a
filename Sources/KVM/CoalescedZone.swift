import CKVM

/// A guest range whose writes KVM buffers in the VM's coalesced ring instead of exiting
/// (KVM_REGISTER_COALESCED_MMIO): the guest does not stop, and userspace applies the writes
/// later, in order, from ``CoalescedRing``. Reads in the range still exit.
public struct CoalescedZone: Sendable, Hashable, CustomStringConvertible {
  /// Guest-physical address or port of the first byte.
  public var address: UInt64
  /// Length in bytes. A write is buffered only when it lies entirely inside the zone.
  public var size: UInt32
  /// MMIO, or ports (needs KVM_CAP_COALESCED_PIO).
  public var space: GuestAddressSpace

  /// Describes a zone; nothing is registered until `VirtualMachine.registerCoalescedZone`.
  public init(address: UInt64, size: UInt32, space: GuestAddressSpace) {
    self.address = address
    self.size = size
    self.space = space
  }

  /// For example `pio zone [0x1000, +0x8)`.
  public var description: String {
    "\(space) zone [0x\(String(address, radix: 16)), +0x\(String(size, radix: 16)))"
  }
}

extension KVMSystem {
  /// The page of the vCPU mapping that holds the coalesced ring, or nil without
  /// KVM_CAP_COALESCED_MMIO (the capability's answer is that page offset).
  public func coalescedRingPageOffset() throws(KVMError) -> Int? {
    let offset = try checkExtension(CKVM_CAP_COALESCED_MMIO)
    return offset > 0 ? Int(offset) : nil
  }

  /// Whether port zones can be coalesced too (KVM_CAP_COALESCED_PIO).
  public func supportsCoalescedPIO() throws(KVMError) -> Bool {
    try checkExtension(CKVM_CAP_COALESCED_PIO) > 0
  }
}

extension VirtualMachine {
  /// Registers `zone` (KVM_REGISTER_COALESCED_MMIO).
  ///
  /// The kernel's rules, checked on Linux 6.18 (virt/kvm/coalesced_mmio.c): a zone is one
  /// more device on KVM's MMIO or PIO bus, so zones may overlap each other and repeat (no
  /// error), a size-0 zone is accepted and never matches, and registration fails with ENOSPC
  /// once the bus holds its 1000 devices. Throws `KVMError.ioctl` with the kernel's errno.
  public func registerCoalescedZone(_ zone: CoalescedZone) throws(KVMError) {
    try coalescedZone(
      zone, request: CKVM_REGISTER_COALESCED_MMIO, name: "KVM_REGISTER_COALESCED_MMIO")
  }

  /// Unregisters every zone of `zone.space` that contains `zone` (KVM_UNREGISTER_COALESCED_MMIO).
  ///
  /// The kernel's rules: every zone that *contains* the given range goes, so unregistering a
  /// part of a zone removes the whole zone, and unregistering a range nothing contains
  /// succeeds and does nothing. When it returns, no vCPU is still adding a write to the ring
  /// for the removed zones (the kernel waits for its SRCU readers before freeing them);
  /// writes they buffered earlier may still be in ``CoalescedRing``.
  public func unregisterCoalescedZone(_ zone: CoalescedZone) throws(KVMError) {
    try coalescedZone(
      zone, request: CKVM_UNREGISTER_COALESCED_MMIO, name: "KVM_UNREGISTER_COALESCED_MMIO")
  }

  private func coalescedZone(_ zone: CoalescedZone, request: UInt, name: String) throws(KVMError) {
    try checkedIOCtl(
      descriptor, request, named: name,
      ckvm_coalesced_zone(zone.address, zone.size, zone.space == .pio ? 1 : 0))
  }
}
