import CKVM
import Glibc

/// Shared memory backing one guest-physical range: anonymous, or (``init(guestPhysicalAddress:size:shareable:)``
/// with `shareable`) a memfd that another process, a vhost-user backend, can map too.
///
/// @unchecked Sendable: the mapping is fixed for the object's lifetime (unmapped only
/// in deinit) and the bytes behave like guest RAM, which the guest may change at any
/// time; callers read results only after the vCPUs that write them have halted.
public final class GuestMemory: @unchecked Sendable {
  /// Guest-physical address of the first byte.
  public let guestPhysicalAddress: UInt64
  /// Size in bytes (a multiple of the page size).
  public let size: Int
  /// Host address of the first byte.
  public let pointer: UnsafeMutableRawPointer
  /// The memfd the mapping comes from (offset 0), when made `shareable`: hand it to another
  /// process (vhost-user `SET_MEM_TABLE`) to let it map the same pages. Closed in deinit.
  public let fileDescriptor: Int32?

  /// Maps `size` bytes (rounded up to whole pages) of zeroed shared memory: anonymous, or
  /// with `shareable` a memfd (``fileDescriptor``) mapped `MAP_SHARED`.
  public init(guestPhysicalAddress: UInt64, size: Int, shareable: Bool = false) throws(KVMError) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    guard size > 0, guestPhysicalAddress % UInt64(page) == 0 else {
      throw .invalidArgument("guest memory must be non-empty and page aligned")
    }
    let rounded = (size + page - 1) / page * page
    var descriptor: Int32 = -1
    if shareable {
      descriptor = ckvm_memfd_create("guest-ram")
      guard descriptor >= 0 else { throw .mmap(what: "guest memory memfd", errno: errno) }
      guard ftruncate(descriptor, off_t(rounded)) == 0 else {
        let code = errno
        close(descriptor)
        throw .mmap(what: "guest memory memfd size", errno: code)
      }
    }
    let flags = shareable ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS
    let mapped = mmap(nil, rounded, PROT_READ | PROT_WRITE, flags, descriptor, 0)
    guard let mapped, mapped != MAP_FAILED else {
      let code = errno
      if shareable { close(descriptor) }
      throw .mmap(what: "guest memory", errno: code)
    }
    self.guestPhysicalAddress = guestPhysicalAddress
    self.size = rounded
    self.pointer = mapped
    self.fileDescriptor = shareable ? descriptor : nil
  }

  deinit {
    munmap(pointer, size)
    if let fileDescriptor { close(fileDescriptor) }
  }

  /// Whether `[address, address + length)` lies inside this region.
  public func contains(_ address: UInt64, length: Int = 1) -> Bool {
    address >= guestPhysicalAddress
      && address - guestPhysicalAddress + UInt64(length) <= UInt64(size)
  }

  /// Copies `bytes` to guest-physical `address`.
  public func write(_ bytes: [UInt8], at address: UInt64) throws(KVMError) {
    guard contains(address, length: bytes.count) else {
      throw .invalidArgument(
        "write of \(bytes.count) bytes at 0x\(String(address, radix: 16)) is outside guest memory")
    }
    let offset = Int(address - guestPhysicalAddress)
    bytes.withUnsafeBytes {
      (pointer + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
    }
  }

  /// Reads a little-endian value of `size` bytes (1, 2, 4 or 8) at guest-physical `address`.
  public func load(at address: UInt64, size: Int) throws(KVMError) -> UInt64 {
    guard contains(address, length: size) else {
      throw .invalidArgument("load at 0x\(String(address, radix: 16)) is outside guest memory")
    }
    let source = pointer + Int(address - guestPhysicalAddress)
    guard let value = loadLittleEndian(source, size: size) else {
      throw .invalidArgument("load size \(size) is not 1, 2, 4 or 8")
    }
    return value
  }
}

/// Reads `size` (1, 2, 4, 8) little-endian bytes, or nil for another size.
@usableFromInline @inline(__always)
func loadLittleEndian(_ source: UnsafeRawPointer, size: Int) -> UInt64? {
  switch size {
  case 1: return UInt64(source.load(as: UInt8.self))
  case 2: return UInt64(UInt16(littleEndian: source.loadUnaligned(as: UInt16.self)))
  case 4: return UInt64(UInt32(littleEndian: source.loadUnaligned(as: UInt32.self)))
  case 8: return UInt64(littleEndian: source.loadUnaligned(as: UInt64.self))
  default: return nil
  }
}

/// Writes the low `size` (1, 2, 4, 8) bytes of `value` little-endian; false for another size.
@usableFromInline @inline(__always)
func storeLittleEndian(_ value: UInt64, to destination: UnsafeMutableRawPointer, size: Int) -> Bool
{
  switch size {
  case 1: destination.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
  case 2:
    destination.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, as: UInt16.self)
  case 4:
    destination.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, as: UInt32.self)
  case 8: destination.storeBytes(of: value.littleEndian, as: UInt64.self)
  default: return false
  }
  return true
}
