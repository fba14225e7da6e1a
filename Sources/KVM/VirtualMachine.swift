import CKVM
import Glibc
import Synchronization

/// One KVM virtual machine: its descriptor, guest memory and vCPUs.
///
/// Sendable: all stored properties are immutable or guarded by a mutex, and the
/// kernel serializes the VM ioctls.
public final class VirtualMachine: Sendable {
  /// The system handle, retained so the device stays open while the VM exists.
  public let system: KVMSystem
  /// The VM file descriptor.
  public let descriptor: Int32
  let vcpuMmapSize: Int
  private let memory = Mutex<[UInt32: GuestMemory]>([:])
  private let ring = Mutex<CoalescedRing?>(nil)

  init(system: KVMSystem, descriptor: Int32, vcpuMmapSize: Int) {
    self.system = system
    self.descriptor = descriptor
    self.vcpuMmapSize = vcpuMmapSize
  }

  deinit { close(descriptor) }

  /// Registers `memory` as memory slot `slot` (KVM_SET_USER_MEMORY_REGION).
  ///
  /// The VM keeps `memory` alive for as long as it is registered, because the
  /// kernel maps guest pages straight onto it.
  public func setUserMemoryRegion(slot: UInt32, memory region: GuestMemory, flags: UInt32 = 0)
    throws(KVMError)
  {
    let descriptorRegion = kvm_userspace_memory_region(
      slot: slot,
      flags: flags,
      guest_phys_addr: region.guestPhysicalAddress,
      memory_size: UInt64(region.size),
      userspace_addr: UInt64(UInt(bitPattern: region.pointer))
    )
    try checkedIOCtl(
      descriptor, CKVM_SET_USER_MEMORY_REGION, named: "KVM_SET_USER_MEMORY_REGION",
      descriptorRegion)
    memory.withLock { $0[slot] = region }
  }

  /// Maps fresh zeroed memory at `guestPhysicalAddress` and registers it as `slot`; with
  /// `shareable`, memfd-backed (``GuestMemory/fileDescriptor``) so a vhost-user backend can
  /// map it too.
  @discardableResult
  public func addMemory(
    slot: UInt32, guestPhysicalAddress: UInt64, size: Int, shareable: Bool = false
  ) throws(KVMError) -> GuestMemory {
    let region = try GuestMemory(
      guestPhysicalAddress: guestPhysicalAddress, size: size, shareable: shareable)
    try setUserMemoryRegion(slot: slot, memory: region)
    return region
  }

  /// The memory registered as `slot`, if any.
  public func memory(slot: UInt32) -> GuestMemory? {
    memory.withLock { $0[slot] }
  }

  /// Creates vCPU number `id` (KVM_CREATE_VCPU) and maps its `kvm_run` area, and with the
  /// first vCPU the VM's ``coalescedRing``.
  public func createVCPU(id: UInt32) throws(KVMError) -> VCPU {
    let fd = ckvm_ioctl_int(descriptor, CKVM_CREATE_VCPU, UInt(id))
    guard fd >= 0 else { throw .ioctl(name: "KVM_CREATE_VCPU", errno: errno) }
    let coalescedRing: CoalescedRing?
    do {
      coalescedRing = try sharedRing(mappingFrom: fd)
    } catch {
      close(fd)
      throw error
    }
    return try VCPU(
      vm: self, id: id, descriptor: fd, mmapSize: vcpuMmapSize, coalescedRing: coalescedRing)
  }

  /// The VM's coalesced MMIO/PIO ring, once a vCPU exists (it is mapped from a vCPU
  /// descriptor); nil before that, or without KVM_CAP_COALESCED_MMIO.
  public var coalescedRing: CoalescedRing? {
    ring.withLock { $0 }
  }

  private func sharedRing(mappingFrom vcpuDescriptor: Int32) throws(KVMError) -> CoalescedRing? {
    if let existing = coalescedRing { return existing }
    guard let pageOffset = try system.coalescedRingPageOffset() else { return nil }
    let mapped = try CoalescedRing(vcpuDescriptor: vcpuDescriptor, pageOffset: pageOffset)
    return ring.withLock { current in
      if let current { return current }
      current = mapped
      return mapped
    }
  }
}
