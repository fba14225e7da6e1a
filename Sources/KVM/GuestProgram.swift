/// One guest write as the host should observe it: where, how wide, which value.
public struct GuestWrite: Sendable, Hashable, CustomStringConvertible {
  /// Ports or MMIO.
  public var space: GuestAddressSpace
  /// Port number or guest-physical address.
  public var address: UInt64
  /// Access width in bytes.
  public var size: Int
  /// The value written (zero-extended).
  public var value: UInt64

  /// Creates a key for counting writes.
  public init(space: GuestAddressSpace, address: UInt64, size: Int, value: UInt64) {
    self.space = space
    self.address = address
    self.size = size
    self.value = value
  }

  /// For example `pio 0x3f8/1 = 0x41`.
  public var description: String {
    "\(space) 0x\(String(address, radix: 16))/\(size) = 0x\(String(value, radix: 16))"
  }
}

/// A generator of 32-bit flat protected-mode x86 guest code: a loop of `iterations`
/// iterations, each performing `accesses` in order, then `hlt`.
///
/// The vCPU must be set up with `VCPU.configureFlatProtectedMode(entry:)`. Write
/// values cycle: in iteration `i` a write access with values `v` writes
/// `v[i % v.count]`, so the host can count every (address, size, value) exactly
/// (`expectedWrites`). Reads store the value the guest received into an 8-byte
/// result slot in guest RAM (overwritten each iteration, zero-extended), whose
/// address `AssembledGuest.resultAddresses` gives.
public struct GuestProgram: Sendable, Hashable {
  /// One access performed per iteration.
  public enum Access: Sendable, Hashable {
    /// `out` to `port` with `size` 1, 2 or 4.
    case portWrite(port: UInt16, size: Int, values: [UInt64])
    /// `mov` (MMX `movq` for 8 bytes) to guest-physical `address` with `size` 1, 2, 4 or 8.
    case mmioWrite(address: UInt64, size: Int, values: [UInt64])
    /// `in` from `port` with `size` 1, 2 or 4.
    case portRead(port: UInt16, size: Int)
    /// Load from guest-physical `address` with `size` 1, 2, 4 or 8.
    case mmioRead(address: UInt64, size: Int)
  }

  /// Number of loop iterations (0 runs straight to `hlt`).
  public var iterations: Int
  /// The accesses of one iteration, in program order.
  public var accesses: [Access]

  /// The largest unrolled period (least common multiple of the value-list lengths).
  public static let maximumPeriod = 64

  /// Describes a program; `assemble` validates and encodes it.
  public init(iterations: Int, accesses: [Access]) {
    self.iterations = iterations
    self.accesses = accesses
  }

  /// How many times each (space, address, size, value) is written by a full run.
  public func expectedWrites() -> [GuestWrite: Int] {
    var counts: [GuestWrite: Int] = [:]
    for access in accesses {
      let (space, address, size, values): (GuestAddressSpace, UInt64, Int, [UInt64])
      switch access {
      case .portWrite(let port, let s, let v):
        (space, address, size, values) = (.pio, UInt64(port), s, v)
      case .mmioWrite(let a, let s, let v): (space, address, size, values) = (.mmio, a, s, v)
      case .portRead, .mmioRead: continue
      }
      for (index, value) in values.enumerated() {
        let times = iterations / values.count + (index < iterations % values.count ? 1 : 0)
        guard times > 0 else { continue }
        counts[GuestWrite(space: space, address: address, size: size, value: value), default: 0] +=
          times
      }
    }
    return counts
  }

  /// Encodes the program for code at `codeAddress` and constants plus result slots
  /// at `dataAddress` (both guest-physical, below 4 GiB, inside guest RAM).
  public func assemble(codeAddress: UInt64, dataAddress: UInt64) throws(KVMError) -> AssembledGuest
  {
    guard iterations >= 0, iterations <= Int(UInt32.max) else {
      throw .invalidArgument("iterations \(iterations) out of range")
    }
    var period = 1
    for access in accesses {
      try validate(access)
      switch access {
      case .portWrite(_, _, let values), .mmioWrite(_, _, let values):
        period = leastCommonMultiple(period, values.count)
        guard period <= Self.maximumPeriod else {
          throw .invalidArgument("value lists need a period above \(Self.maximumPeriod)")
        }
      case .portRead, .mmioRead: break
      }
    }

    var data = DataArea(base: dataAddress)
    var resultAddresses: [Int: UInt64] = [:]
    for (index, access) in accesses.enumerated() {
      switch access {
      case .portRead, .mmioRead: resultAddresses[index] = data.reserve(8)
      case .portWrite, .mmioWrite: break
      }
    }

    var code = X86Emitter()
    let blocks = iterations / period
    if blocks > 0 {
      code.movECX(UInt32(blocks))
      let loopStart = code.bytes.count
      for phase in 0..<period {
        emitIteration(phase: phase, into: &code, data: &data, results: resultAddresses)
      }
      code.decECX()
      code.jnz(to: loopStart)
    }
    for phase in 0..<(iterations % period) {
      emitIteration(phase: phase, into: &code, data: &data, results: resultAddresses)
    }
    code.hlt()

    let end = codeAddress + UInt64(code.bytes.count)
    if dataAddress < end && codeAddress < dataAddress + UInt64(data.bytes.count) {
      throw .invalidArgument(
        "code [0x\(String(codeAddress, radix: 16)), 0x\(String(end, radix: 16))) overlaps data")
    }
    guard end <= UInt64(UInt32.max), dataAddress + UInt64(data.bytes.count) <= UInt64(UInt32.max)
    else {
      throw .invalidArgument("program does not fit below 4 GiB")
    }
    return AssembledGuest(
      code: code.bytes, codeAddress: codeAddress, data: data.bytes, dataAddress: dataAddress,
      resultAddresses: resultAddresses)
  }

  private func validate(_ access: Access) throws(KVMError) {
    switch access {
    case .portWrite(_, let size, let values):
      guard [1, 2, 4].contains(size) else { throw .invalidArgument("port write size \(size)") }
      try validate(values: values, size: size)
    case .portRead(_, let size):
      guard [1, 2, 4].contains(size) else { throw .invalidArgument("port read size \(size)") }
    case .mmioWrite(let address, let size, let values):
      guard [1, 2, 4, 8].contains(size) else { throw .invalidArgument("MMIO write size \(size)") }
      try validate(address: address, size: size)
      try validate(values: values, size: size)
    case .mmioRead(let address, let size):
      guard [1, 2, 4, 8].contains(size) else { throw .invalidArgument("MMIO read size \(size)") }
      try validate(address: address, size: size)
    }
  }

  private func validate(values: [UInt64], size: Int) throws(KVMError) {
    guard !values.isEmpty else { throw .invalidArgument("a write needs at least one value") }
    if size < 8, let wide = values.first(where: { $0 >> (8 * size) != 0 }) {
      throw .invalidArgument("value 0x\(String(wide, radix: 16)) does not fit in \(size) bytes")
    }
  }

  private func validate(address: UInt64, size: Int) throws(KVMError) {
    guard address + UInt64(size) <= UInt64(UInt32.max) + 1 else {
      throw .invalidArgument(
        "MMIO address 0x\(String(address, radix: 16)) is not reachable from 32-bit code")
    }
  }

  private func emitIteration(
    phase: Int, into code: inout X86Emitter, data: inout DataArea, results: [Int: UInt64]
  ) {
    for (index, access) in accesses.enumerated() {
      switch access {
      case .portWrite(let port, let size, let values):
        code.outImmediate(port: port, size: size, value: values[phase % values.count])
      case .mmioWrite(let address, let size, let values):
        let value = values[phase % values.count]
        if size == 8 {
          code.movqMM0(fromAbsolute: UInt32(data.constant(value)))
          code.movqMM0(toAbsolute: UInt32(address))
        } else {
          code.storeImmediate(absolute: UInt32(address), size: size, value: value)
        }
      case .portRead(let port, let size):
        code.inAccumulator(port: port, size: size)
        code.storeAccumulator(absolute: UInt32(results[index]!), size: size)
      case .mmioRead(let address, let size):
        if size == 8 {
          code.movqMM0(fromAbsolute: UInt32(address))
          code.movqMM0(toAbsolute: UInt32(results[index]!))
        } else {
          code.loadAccumulator(absolute: UInt32(address), size: size)
          code.storeAccumulator(absolute: UInt32(results[index]!), size: size)
        }
      }
    }
  }
}

/// An encoded `GuestProgram`: the bytes to copy into guest RAM and where.
public struct AssembledGuest: Sendable, Hashable {
  /// Machine code; execution starts at its first byte.
  public let code: [UInt8]
  /// Guest-physical address the code is built for.
  public let codeAddress: UInt64
  /// Constants and zeroed result slots.
  public let data: [UInt8]
  /// Guest-physical address of `data`.
  public let dataAddress: UInt64
  /// For each read access (by index in `GuestProgram.accesses`), the guest-physical
  /// address of its 8-byte result slot.
  public let resultAddresses: [Int: UInt64]

  /// Copies code and data into `memory`.
  public func load(into memory: GuestMemory) throws(KVMError) {
    try memory.write(code, at: codeAddress)
    try memory.write(data, at: dataAddress)
  }
}

private func leastCommonMultiple(_ a: Int, _ b: Int) -> Int {
  var (x, y) = (a, b)
  while y != 0 { (x, y) = (y, x % y) }
  return a / x * b
}

/// Guest data: 8-byte aligned constants (deduplicated) and result slots.
private struct DataArea {
  let base: UInt64
  var bytes: [UInt8] = []
  var constants: [UInt64: UInt64] = [:]

  init(base: UInt64) { self.base = base }

  mutating func reserve(_ count: Int) -> UInt64 {
    let address = base + UInt64(bytes.count)
    bytes.append(contentsOf: repeatElement(0, count: count))
    return address
  }

  mutating func constant(_ value: UInt64) -> UInt64 {
    if let address = constants[value] { return address }
    let address = reserve(8)
    let offset = Int(address - base)
    for byte in 0..<8 { bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) }
    constants[value] = address
    return address
  }
}

/// x86 encodings for 32-bit code (default operand and address size 32; 0x66
/// selects 16-bit operands).
private struct X86Emitter {
  var bytes: [UInt8] = []

  private mutating func emit(_ value: UInt64, size: Int) {
    for byte in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * byte))) }
  }

  private mutating func operandSize(_ size: Int) {
    if size == 2 { bytes.append(0x66) }
  }

  /// mov ecx, imm32
  mutating func movECX(_ value: UInt32) {
    bytes.append(0xB9)
    emit(UInt64(value), size: 4)
  }

  /// dec ecx
  mutating func decECX() { bytes.append(0x49) }

  /// jnz rel32 back to byte offset `target`.
  mutating func jnz(to target: Int) {
    bytes += [0x0F, 0x85]
    emit(UInt64(bitPattern: Int64(target - (bytes.count + 4))), size: 4)
  }

  mutating func hlt() { bytes.append(0xF4) }

  /// mov dx, imm16
  private mutating func movDX(_ port: UInt16) {
    bytes += [0x66, 0xBA]
    emit(UInt64(port), size: 2)
  }

  /// mov al/ax/eax, imm; out dx, al/ax/eax
  mutating func outImmediate(port: UInt16, size: Int, value: UInt64) {
    movDX(port)
    if size == 1 {
      bytes.append(0xB0)
    } else {
      operandSize(size)
      bytes.append(0xB8)
    }
    emit(value, size: size)
    operandSize(size)
    bytes.append(size == 1 ? 0xEE : 0xEF)
  }

  /// in al/ax/eax, dx
  mutating func inAccumulator(port: UInt16, size: Int) {
    movDX(port)
    operandSize(size)
    bytes.append(size == 1 ? 0xEC : 0xED)
  }

  /// mov byte/word/dword [abs32], imm
  mutating func storeImmediate(absolute address: UInt32, size: Int, value: UInt64) {
    operandSize(size)
    bytes += [size == 1 ? 0xC6 : 0xC7, 0x05]
    emit(UInt64(address), size: 4)
    emit(value, size: size)
  }

  /// mov al/ax/eax, [moffs32]
  mutating func loadAccumulator(absolute address: UInt32, size: Int) {
    operandSize(size)
    bytes.append(size == 1 ? 0xA0 : 0xA1)
    emit(UInt64(address), size: 4)
  }

  /// mov [moffs32], al/ax/eax
  mutating func storeAccumulator(absolute address: UInt32, size: Int) {
    operandSize(size)
    bytes.append(size == 1 ? 0xA2 : 0xA3)
    emit(UInt64(address), size: 4)
  }

  /// movq mm0, [abs32] (0F 6F /r, ModRM 05 = disp32). MMX rather than SSE because
  /// KVM's instruction emulator implements the MMX form for MMIO and rejects the SSE
  /// `movq` encodings (internal error, emulation suberror).
  mutating func movqMM0(fromAbsolute address: UInt32) {
    bytes += [0x0F, 0x6F, 0x05]
    emit(UInt64(address), size: 4)
  }

  /// movq [abs32], mm0 (0F 7F /r), one 8-byte access
  mutating func movqMM0(toAbsolute address: UInt32) {
    bytes += [0x0F, 0x7F, 0x05]
    emit(UInt64(address), size: 4)
  }
}
