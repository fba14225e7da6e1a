/// A small x86 assembler for the block guest's 32-bit code: the instructions
/// ``BlockGuestProgram`` needs, with forward labels patched when they are placed.
struct BlockAssembler {
  /// A jump target, placed once.
  struct Label: Hashable { let id: Int }

  /// Registers by their encoding number.
  enum Register: UInt8 {
    case eax = 0
    case ecx = 1
    case edx = 2
    case ebx = 3
    case esp = 4
    case ebp = 5
    case esi = 6
    case edi = 7
  }

  /// Condition codes of `jcc`.
  enum Condition: UInt8 {
    case below = 0x2
    case equal = 0x4
    case notEqual = 0x5
  }

  private(set) var bytes: [UInt8] = []
  private var labels: [Int: Int] = [:]
  private var fixups: [(at: Int, label: Int)] = []
  private var nextLabel = 0

  private mutating func emit32(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> shift))
    }
  }

  private mutating func emit16(_ value: UInt16) {
    bytes.append(UInt8(truncatingIfNeeded: value))
    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
  }

  /// `opcode` (with its ModRM and SIB bytes) and a 32-bit operand: an absolute address or
  /// an immediate.
  private mutating func instruction(_ opcode: [UInt8], _ operand: UInt32) {
    bytes += opcode
    emit32(operand)
  }

  mutating func makeLabel() -> Label {
    defer { nextLabel += 1 }
    return Label(id: nextLabel)
  }

  mutating func place(_ label: Label) { labels[label.id] = bytes.count }

  /// `jcc rel32` (or `jmp rel32` without a condition) to `label`.
  mutating func jump(_ condition: Condition? = nil, to label: Label) {
    if let condition { bytes += [0x0F, 0x80 | condition.rawValue] } else { bytes.append(0xE9) }
    fixups.append((bytes.count, label.id))
    emit32(0)
  }

  /// The code with every jump patched; nil if a label was never placed.
  func finished() -> [UInt8]? {
    var code = bytes
    for fixup in fixups {
      guard let target = labels[fixup.label] else { return nil }
      let relative = UInt32(bitPattern: Int32(target - (fixup.at + 4)))
      for byte in 0..<4 {
        code[fixup.at + byte] = UInt8(truncatingIfNeeded: relative >> (8 * byte))
      }
    }
    return code
  }

  /// `mov r32, imm32`
  mutating func mov(_ register: Register, _ value: UInt32) {
    instruction([0xB8 + register.rawValue], value)
  }

  /// `mov r32, [abs32]`
  mutating func load(_ register: Register, from address: UInt32) {
    instruction([0x8B, 0x05 | register.rawValue << 3], address)
  }

  /// `mov [abs32], r32`
  mutating func store(_ register: Register, to address: UInt32) {
    instruction([0x89, 0x05 | register.rawValue << 3], address)
  }

  /// `mov dword [abs32], imm32`
  mutating func store32(_ value: UInt32, to address: UInt32) {
    instruction([0xC7, 0x05], address)
    emit32(value)
  }

  /// `mov word [abs32], imm16`
  mutating func store16(_ value: UInt16, to address: UInt32) {
    instruction([0x66, 0xC7, 0x05], address)
    emit16(value)
  }

  /// `mov byte [abs32], imm8`
  mutating func store8(_ value: UInt8, to address: UInt32) {
    instruction([0xC6, 0x05], address)
    bytes.append(value)
  }

  /// `mov word [abs32], ax`
  mutating func storeAX(to address: UInt32) {
    instruction([0x66, 0xA3], address)
  }

  /// `movzx eax, word [abs32]`
  mutating func loadZeroExtended16(from address: UInt32) {
    instruction([0x0F, 0xB7, 0x05], address)
  }

  /// `movzx eax, byte [abs32]`
  mutating func loadZeroExtended8(from address: UInt32) {
    instruction([0x0F, 0xB6, 0x05], address)
  }

  /// `mov word [eax*2 + abs32], imm16`
  mutating func store16(_ value: UInt16, toIndexedByEAXTimes2 address: UInt32) {
    instruction([0x66, 0xC7, 0x04, 0x45], address)
    emit16(value)
  }

  /// `mov [ebx*4 + abs32], eax`
  mutating func storeEAX(toIndexedByEBXTimes4 address: UInt32) {
    instruction([0x89, 0x04, 0x9D], address)
  }

  /// `mov eax, [ebx*8 + abs32]`
  mutating func loadEAX(fromIndexedByEBXTimes8 address: UInt32) {
    instruction([0x8B, 0x04, 0xDD], address)
  }

  /// `mov eax, [eax*4 + abs32]`
  mutating func loadEAX(fromIndexedByEAXTimes4 address: UInt32) {
    instruction([0x8B, 0x04, 0x85], address)
  }

  /// `mov dword [edx], imm32`: the kick, a write to the address in edx.
  mutating func storeThroughEDX(_ value: UInt32) {
    instruction([0xC7, 0x02], value)
  }

  /// `imul eax, eax, imm32`
  mutating func multiplyEAX(_ value: UInt32) {
    instruction([0x69, 0xC0], value)
  }

  /// `xor eax, imm32`
  mutating func xorEAX(_ value: UInt32) {
    instruction([0x35], value)
  }

  /// `add eax, imm32`
  mutating func addEAX(_ value: UInt32) {
    instruction([0x05], value)
  }

  /// `and eax, imm32`
  mutating func andEAX(_ value: UInt32) {
    instruction([0x25], value)
  }

  /// `and ebx, imm32`
  mutating func andEBX(_ value: UInt32) {
    instruction([0x81, 0xE3], value)
  }

  /// `cmp eax, imm32`
  mutating func compareEAX(_ value: UInt32) {
    instruction([0x3D], value)
  }

  /// `cmp eax, ebx`
  mutating func compareEAXWithEBX() { bytes += [0x39, 0xD8] }

  /// `xor eax, ebx`
  mutating func xorEAXWithEBX() { bytes += [0x31, 0xD8] }

  /// `test eax, imm32`
  mutating func testEAX(_ value: UInt32) {
    instruction([0xA9], value)
  }

  /// `sub eax, [abs32]`
  mutating func subtractFromEAX(_ address: UInt32) {
    instruction([0x2B, 0x05], address)
  }

  /// `shr eax, imm8`
  mutating func shiftRightEAX(_ count: UInt8) { bytes += [0xC1, 0xE8, count] }

  /// `shl eax, imm8`
  mutating func shiftLeftEAX(_ count: UInt8) { bytes += [0xC1, 0xE0, count] }

  /// `add eax, ebx`
  mutating func addEBXToEAX() { bytes += [0x01, 0xD8] }

  /// `inc r32` / `dec r32`
  mutating func increment(_ register: Register) { bytes.append(0x40 + register.rawValue) }
  mutating func decrement(_ register: Register) { bytes.append(0x48 + register.rawValue) }

  /// `inc dword [abs32]`
  mutating func increment(at address: UInt32) {
    instruction([0xFF, 0x05], address)
  }

  /// `stosd`: [edi] = eax, edi += 4 (the direction flag is clear: RFLAGS starts as 2).
  mutating func storeString() { bytes.append(0xAB) }

  /// `repe cmpsd`: compares [esi] and [edi] dword by dword while equal, ecx times.
  mutating func compareStrings() { bytes += [0xF3, 0xA7] }

  /// `rdtsc; shrd eax, edx, 4`: eax = the time-stamp counter / 16, modulo 2^32.
  mutating func readTimestamp() { bytes += [0x0F, 0x31, 0x0F, 0xAC, 0xD0, 0x04] }

  mutating func halt() { bytes.append(0xF4) }

  /// `mov al, imm8; out imm8, al`
  mutating func out(port: UInt8, value: UInt8) { bytes += [0xB0, value, 0xE6, port] }
}
