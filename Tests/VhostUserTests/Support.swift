import ConcurrentBus
import Foundation
import Glibc
import KVM
import StressKit
import Testing
import VhostUser

/// Why the tests that need `qemu-storage-daemon` cannot run here, or nil when it is there.
let daemonMissingReason: String? = {
  guard StorageDaemon.executable == nil else { return nil }
  let reason = "qemu-storage-daemon tests skipped: \(StorageDaemonError.missing)"
  print(reason)
  return reason
}()

/// A Unix stream socket bound at `path`, not listening yet; the caller closes it and
/// unlinks `path`.
func boundUnixSocket(at path: String) throws -> Int32 {
  let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
  try #require(descriptor >= 0)
  var address = sockaddr_un()
  address.sun_family = sa_family_t(AF_UNIX)
  withUnsafeMutableBytes(of: &address.sun_path) { buffer in
    for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
  }
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
    }
  }
  if bound != 0 { close(descriptor) }
  try #require(bound == 0, "bind \(path): errno \(errno)")
  return descriptor
}

/// Guest memory for a back end: one memfd-backed region, no VM needed.
func shareableMemory(size: Int = 1 << 20, at address: UInt64 = 0x10_0000) throws -> GuestMemory {
  try GuestMemory(guestPhysicalAddress: address, size: size, shareable: true)
}

extension GuestMemory {
  /// The window devices use on this memory.
  var window: GuestMemoryWindow {
    GuestMemoryWindow(guestPhysicalAddress: guestPhysicalAddress, size: UInt64(size), base: pointer)
  }

  /// The `SET_MEM_TABLE` region of this memory.
  var region: VhostUserMemoryRegion {
    VhostUserMemoryRegion(
      guestPhysicalAddress: guestPhysicalAddress, size: UInt64(size),
      userspaceAddress: UInt64(UInt(bitPattern: pointer)), fileDescriptor: fileDescriptor!)
  }

  func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) {
    (pointer + Int(address - guestPhysicalAddress)).storeBytes(of: value.littleEndian, as: T.self)
  }

  func loadValue<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64) -> T {
    T(littleEndian: (pointer + Int(address - guestPhysicalAddress)).loadUnaligned(as: T.self))
  }
}

/// A driver written on the host, for protocol tests without a guest: one request at a time
/// on a queue at `layout`, its header, data and status at `buffers`.
struct HostDriver {
  let memory: GuestMemory
  let layout: SplitQueueLayout
  let buffers: UInt64
  var available: UInt16 = 0

  /// Makes a request of `type` for `sector` with `data` (written for OUT, read into for IN)
  /// available, as descriptors 0, 1, 2.
  mutating func submit(type: UInt32, sector: UInt64, bytes: Int, data: [UInt8] = []) {
    let header = buffers
    let payload = buffers + 64
    let status = payload + UInt64(bytes)
    memory.store(type, at: header)
    memory.store(UInt32(0), at: header + 4)
    memory.store(sector, at: header + 8)
    for (index, byte) in data.enumerated() { memory.store(byte, at: payload + UInt64(index)) }
    memory.store(UInt8(0xFF), at: status)
    let chain: [(UInt64, UInt32, UInt16)] =
      bytes == 0
      ? [
        (header, UInt32(16), VirtioBlock.descriptorNext),
        (status, UInt32(1), VirtioBlock.descriptorWrite),
      ]
      : [
        (header, UInt32(16), VirtioBlock.descriptorNext),
        (
          payload, UInt32(bytes),
          VirtioBlock.descriptorNext
            | (type == VirtioBlock.requestIn ? VirtioBlock.descriptorWrite : 0)
        ),
        (status, UInt32(1), VirtioBlock.descriptorWrite),
      ]
    for (index, (address, length, flags)) in chain.enumerated() {
      let descriptor = layout.descriptor(index)
      memory.store(address, at: descriptor)
      memory.store(length, at: descriptor + 8)
      memory.store(flags, at: descriptor + 12)
      memory.store(UInt16(index + 1), at: descriptor + 14)
    }
    memory.store(UInt16(0), at: layout.availableEntry(available))
    available &+= 1
    memory.store(available, at: layout.availableIndex)
  }

  func status(bytes: Int) -> UInt8 {
    memory.loadValue(UInt8.self, at: buffers + 64 + UInt64(bytes))
  }

  func data(bytes: Int) -> [UInt8] {
    (0..<bytes).map { memory.loadValue(UInt8.self, at: buffers + 64 + UInt64($0)) }
  }

  var used: UInt16 { memory.loadValue(UInt16.self, at: layout.usedIndex) }

  /// Waits (at most `seconds`) until the used index reaches what was made available.
  func waitForCompletion(seconds: Double = 5) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while used != available {
      guard Date() < deadline else { return false }
      usleep(200)
    }
    return true
  }
}
