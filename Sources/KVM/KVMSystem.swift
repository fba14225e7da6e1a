import CKVM
import Glibc

/// An open handle on the KVM subsystem (`/dev/kvm`).
///
/// Sendable because the descriptor is immutable and the kernel serializes the
/// system ioctls issued through it.
public final class KVMSystem: Sendable {
  /// The KVM API version this harness is written against.
  public static let stableAPIVersion: Int32 = 12

  /// The file descriptor of the opened device node.
  public let descriptor: Int32

  /// Opens `path` and checks the API version.
  ///
  /// Throws `KVMError.cannotOpen` when the node is missing or not accessible, so
  /// callers (tests) can skip with that reason.
  public init(path: String = "/dev/kvm") throws(KVMError) {
    let fd = open(path, O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
    let version = ckvm_ioctl_int(fd, CKVM_GET_API_VERSION, 0)
    guard version == Self.stableAPIVersion else {
      let code = errno
      close(fd)
      if version < 0 { throw .ioctl(name: "KVM_GET_API_VERSION", errno: code) }
      throw .unsupportedAPIVersion(version)
    }
    descriptor = fd
  }

  deinit { close(descriptor) }

  /// Returns KVM_CHECK_EXTENSION for `capability` (0 when absent, often a count when present).
  public func checkExtension(_ capability: Int32) throws(KVMError) -> Int32 {
    let result = ckvm_ioctl_int(descriptor, CKVM_CHECK_EXTENSION, UInt(capability))
    guard result >= 0 else { throw .ioctl(name: "KVM_CHECK_EXTENSION", errno: errno) }
    return result
  }

  /// The recommended number of vCPUs per VM (KVM_CAP_NR_VCPUS), at least 1.
  public func recommendedVCPUCount() throws(KVMError) -> Int {
    max(1, Int(try checkExtension(CKVM_CAP_NR_VCPUS)))
  }

  /// Whether KVM_IOEVENTFD is supported.
  public func supportsIOEventFD() throws(KVMError) -> Bool {
    try checkExtension(CKVM_CAP_IOEVENTFD) > 0
  }

  /// The size of the per-vCPU `struct kvm_run` mapping.
  public func vcpuMmapSize() throws(KVMError) -> Int {
    let size = ckvm_ioctl_int(descriptor, CKVM_GET_VCPU_MMAP_SIZE, 0)
    guard size > 0 else { throw .ioctl(name: "KVM_GET_VCPU_MMAP_SIZE", errno: errno) }
    return Int(size)
  }

  /// Creates an empty virtual machine (KVM_CREATE_VM, default machine type).
  public func createVirtualMachine() throws(KVMError) -> VirtualMachine {
    let mmapSize = try vcpuMmapSize()
    let fd = ckvm_ioctl_int(descriptor, CKVM_CREATE_VM, 0)
    guard fd >= 0 else { throw .ioctl(name: "KVM_CREATE_VM", errno: errno) }
    return VirtualMachine(system: self, descriptor: fd, vcpuMmapSize: mmapSize)
  }
}
