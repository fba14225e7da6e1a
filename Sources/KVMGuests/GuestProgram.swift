public import KVM

/// A generator of 32-bit flat protected-mode x86 guest code: a loop of `iterations`
/// iterations, each performing `sequencedWrites` then `accesses` in order, then `hlt`.
///
/// The vCPU must be set up with `VCPU.configureFlatProtectedMode(entry:)`. Write
/// values cycle: in iteration `i` a write access with values `v` writes
/// `v[i % v.count]`, so the host can count every (address, size, value) exactly
/// (`expectedWrites`). Reads store the value the guest received into an 8-byte
/// result slot in guest RAM (overwritten each iteration, zero-extended), whose
/// address `AssembledGuest.resultAddresses` gives.
///
/// Sequenced writes let a checker see order: each carries ``SequencedValue`` (`writer`,
/// and the program's sequence counter, incremented after every sequenced write), so every
/// value is unique per writer and must be delivered exactly once, in counter order. The
/// counter lives in a register while the guest runs and in guest RAM between runs
/// (`AssembledGuest.sequenceCounterAddress`), so a program run again continues where it
/// stopped.
public struct GuestProgram: Sendable, Hashable {
  /// A write whose value is the writer and the next sequence number.
  public struct SequencedWrite: Sendable, Hashable {
    /// Ports (`out`, 4 bytes) or MMIO (`mov`, 4 bytes, or MMX `movq`, 8 bytes).
    public var space: GuestAddressSpace
    /// Port number or guest-physical address.
    public var address: UInt64
    /// 4, or 8 for MMIO.
    public var size: Int

    /// Describes a sequenced write of `size` bytes to `address` in `space`.
    public init(space: GuestAddressSpace, address: UInt64, size: Int = 4) {
      self.space = space
      self.address = address
      self.size = size
    }
  }

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
  /// The writer id sequenced writes carry, normally the vCPU index.
  public var writer: UInt8
  /// The sequenced writes of one iteration, in program order, before `accesses`.
  public var sequencedWrites: [SequencedWrite]
  /// The accesses of one iteration, in program order.
  public var accesses: [Access]

  /// The largest unrolled period (least common multiple of the value-list lengths).
  public static let maximumPeriod = 64

  /// Describes a program; `assemble` validates and encodes it.
  public init(
    iterations: Int, writer: UInt8 = 0, sequencedWrites: [SequencedWrite] = [],
    accesses: [Access] = []
  ) {
    self.iterations = iterations
    self.writer = writer
    self.sequencedWrites = sequencedWrites
    self.accesses = accesses
  }

  /// Sequenced writes one full run makes (its counter advances by this much).
  public var sequencedWritesPerRun: Int { iterations * sequencedWrites.count }

  /// Every guest-physical range an MMIO access or sequenced write touches.
  public var mmioRanges: [(address: UInt64, size: Int)] {
    var ranges: [(address: UInt64, size: Int)] = []
    for write in sequencedWrites where write.space == .mmio {
      ranges.append((write.address, write.size))
    }
    for access in accesses {
      switch access {
      case .mmioWrite(let address, let size, _), .mmioRead(let address, let size):
        ranges.append((address, size))
      case .portWrite, .portRead: continue
      }
    }
    return ranges
  }

  /// How many times each (space, address, size, value) is written by a full run, leaving
  /// out sequenced writes (their values depend on the counter; check them with
  /// ``SequenceCheck``).
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
    for write in sequencedWrites { try validate(write) }
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
    let sequence = sequencedWrites.isEmpty ? nil : SequenceSlots(writer: writer, data: &data)

    var code = X86Emitter()
    if let sequence { code.loadESI(absolute: UInt32(sequence.counter)) }
    let blocks = iterations / period
    if blocks > 0 {
      code.movECX(UInt32(blocks))
      let loopStart = code.bytes.count
      for phase in 0..<period {
        emitIteration(
          phase: phase, into: &code, data: &data, results: resultAddresses, sequence: sequence)
      }
      code.decECX()
      code.jnz(to: loopStart)
    }
    for phase in 0..<(iterations % period) {
      emitIteration(
        phase: phase, into: &code, data: &data, results: resultAddresses, sequence: sequence)
    }
    if let sequence { code.storeESI(absolute: UInt32(sequence.counter)) }
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
      resultAddresses: resultAddresses, sequenceCounterAddress: sequence?.counter)
  }

  private func validate(_ write: SequencedWrite) throws(KVMError) {
    switch write.space {
    case .pio:
      guard write.size == 4, write.address <= UInt64(UInt16.max) else {
        throw .invalidArgument("a sequenced port write is 4 bytes to a 16-bit port")
      }
    case .mmio:
      guard write.size == 4 || write.size == 8 else {
        throw .invalidArgument("a sequenced MMIO write is 4 or 8 bytes, not \(write.size)")
      }
      try validate(address: write.address, size: write.size)
    }
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
    phase: Int, into code: inout X86Emitter, data: inout DataArea, results: [Int: UInt64],
    sequence: SequenceSlots?
  ) {
    if let sequence {
      for write in sequencedWrites { sequence.emit(write, into: &code) }
    }
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

private func leastCommonMultiple(_ a: Int, _ b: Int) -> Int {
  var (x, y) = (a, b)
  while y != 0 { (x, y) = (y, x % y) }
  return a / x * b
}
