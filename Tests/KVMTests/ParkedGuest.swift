import Glibc
import HostSupport
import KVM
import Synchronization

/// A hand-made guest on its own VM: `prologue`, then a marker set in RAM, then a spin with
/// no exit until the test sets a flag, then `hlt`. It keeps its vCPU in the guest for as long
/// as a test needs, whatever the machine's guest speed.
final class ParkedGuest: Sendable {
  static let base: UInt64 = 0x10_0000
  static let marker = base + 0x800
  static let flag = base + 0x808

  let vm: VirtualMachine
  let vcpu: VCPU
  let memory: GuestMemory
  private let outcome = Mutex<Result<RunStatistics, KVMError>?>(nil)
  private let runner = Mutex<HostThread?>(nil)

  init(prologue: [UInt8]) throws {
    var code = prologue
    code += [0xC7, 0x05] + littleEndian(UInt32(Self.marker)) + [1, 0, 0, 0]  // mov [marker], 1
    code += [0x83, 0x3D] + littleEndian(UInt32(Self.flag)) + [0, 0x74, 0xF7]  // until [flag]
    code += [0xF4]  // hlt
    vm = try system().createVirtualMachine()
    memory = try vm.addMemory(slot: 0, guestPhysicalAddress: Self.base, size: 4096)
    try memory.write(code, at: Self.base)
    vcpu = try vm.createVCPU(id: 0)
    try vcpu.configureFlatProtectedMode(entry: Self.base)
  }

  /// Runs the vCPU with `handler` on a thread of its own and returns once the guest has
  /// reached its spin (or the run ended early).
  func start<Handler: GuestIOHandler>(handler: Handler) throws {
    let thread = try HostThread { [self] in
      let result = Result { () throws(KVMError) in try vcpu.run(handler: handler) }
      outcome.withAnnotatedLock(owner: self) { $0 = result }
    }
    runner.withAnnotatedLock(owner: self) { $0 = thread }
    while try memory.load(at: Self.marker, size: 4) == 0 && !hasHalted { usleep(100) }
  }

  /// Whether the run has returned.
  var hasHalted: Bool { outcome.withAnnotatedLock(owner: self) { $0 != nil } }

  /// Lets the guest reach `hlt` and returns the run's statistics.
  func release() throws -> RunStatistics {
    try memory.write([1], at: Self.flag)
    runner.withAnnotatedLock(owner: self) { $0 }?.join()
    return try outcome.withAnnotatedLock(owner: self) { $0 }!.get()
  }
}

/// The little-endian bytes of `value`, for hand-made guest code.
func littleEndian(_ value: UInt32) -> [UInt8] {
  withUnsafeBytes(of: value.littleEndian) { Array($0) }
}
