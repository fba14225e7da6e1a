import CKVM
import Glibc
import KVM
import RCU
import Synchronization
import Testing

/// Opens /dev/kvm once for the whole test process; the failure text is the skip reason.
let sharedSystem: Result<KVMSystem, KVMError> = Result { () throws(KVMError) in try KVMSystem() }

/// Why KVM tests cannot run here, or nil when /dev/kvm opened; printed once.
let kvmUnavailableReason: String? = {
  guard case .failure(let error) = sharedSystem else { return nil }
  let reason = "KVM tests skipped: \(error)"
  print(reason)
  return reason
}()

func system() throws -> KVMSystem { try sharedSystem.get() }

/// Counts every write and answers reads with `pattern + n` (n = 1-based read number
/// for that port or address), so the last read value proves the count too.
final class RecordingHandler: GuestIOHandler {
  let writes = Mutex<[GuestWrite: Int]>([:])
  let reads = Mutex<[GuestWrite: UInt64]>([:])
  let pattern: UInt64

  init(pattern: UInt64 = 0x1122_3344_5566_7700) { self.pattern = pattern }

  func portWrite(port: UInt16, size: Int, value: UInt64) {
    writes.withLock {
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      $0[GuestWrite(space: .pio, address: UInt64(port), size: size, value: value), default: 0] += 1
    }
  }

  func portRead(port: UInt16, size: Int) -> UInt64 {
    nextRead(GuestWrite(space: .pio, address: UInt64(port), size: size, value: 0))
  }

  func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    writes.withLock {
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      $0[GuestWrite(space: .mmio, address: address, size: size, value: value), default: 0] += 1
    }
  }

  func mmioRead(address: UInt64, size: Int) -> UInt64 {
    nextRead(GuestWrite(space: .mmio, address: address, size: size, value: 0))
  }

  private func nextRead(_ key: GuestWrite) -> UInt64 {
    let count = reads.withLock { counts in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      counts[key, default: 0] += 1
      return counts[key]!
    }
    return expectedRead(count: count, size: key.size)
  }

  /// The value the `count`-th read of a `size`-byte location returns.
  func expectedRead(count: UInt64, size: Int) -> UInt64 {
    let value = pattern &+ count
    return size == 8 ? value : value & ((1 << (8 * UInt64(size))) - 1)
  }
}

/// An eventfd(2) owned by a test.
final class EventFD {
  let descriptor: Int32

  init() throws {
    descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    guard descriptor >= 0 else { throw KVMError.ioctl(name: "eventfd", errno: errno) }
  }

  deinit { close(descriptor) }

  /// Reads and resets the counter; 0 when it was never signalled.
  func take() -> UInt64 {
    var value: UInt64 = 0
    let result = read(descriptor, &value, 8)
    return result == 8 ? value : 0
  }
}

/// Records port writes byte by byte in arrival order and answers reads with
/// `0xA0000000 + n` (n = 1-based read number), to check string I/O ordering.
final class StreamHandler: GuestIOHandler {
  let written = Mutex<[UInt8]>([])
  let readCount = Mutex<UInt64>(0)

  func portWrite(port: UInt16, size: Int, value: UInt64) {
    written.withLock { bytes in
      for byte in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))) }
    }
  }

  func portRead(port: UInt16, size: Int) -> UInt64 {
    0xA000_0000
      + readCount.withLock { count in
        count += 1
        return count
      }
  }

  func mmioWrite(address: UInt64, size: Int, value: UInt64) {}

  func mmioRead(address: UInt64, size: Int) -> UInt64 { 0 }
}
