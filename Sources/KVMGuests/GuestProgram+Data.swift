/// The data a program with sequenced writes keeps: its counter (read into `esi` at entry,
/// written back before `hlt`) and, for 8-byte writes, a staging slot whose high half holds
/// the writer id.
struct SequenceSlots {
  let writer: UInt8
  let counter: UInt64
  let staging: UInt64

  init(writer: UInt8, data: inout DataArea) {
    self.writer = writer
    counter = data.reserve(8)
    staging = data.constant(UInt64(writer) << 56)
  }

  /// eax = writer << 24 | (esi mod 2^24), stored as the write asks; then esi += 1.
  func emit(_ write: GuestProgram.SequencedWrite, into code: inout X86Emitter) {
    code.movEAXFromESI()
    code.andEAX(SequencedValue.sequenceMask)
    if write.size == 8 {
      // The high half of the staging slot already holds writer << 24.
      code.storeAccumulator(absolute: UInt32(staging), size: 4)
      code.movqMM0(fromAbsolute: UInt32(staging))
      code.movqMM0(toAbsolute: UInt32(write.address))
    } else {
      code.orEAX(UInt32(writer) << 24)
      if write.space == .pio {
        code.outAccumulator(port: UInt16(write.address), size: 4)
      } else {
        code.storeAccumulator(absolute: UInt32(write.address), size: 4)
      }
    }
    code.incESI()
  }
}

/// Guest data: 8-byte aligned constants (deduplicated) and result slots.
struct DataArea {
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
