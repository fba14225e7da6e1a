/// x86 encodings for 32-bit code (default operand and address size 32; 0x66
/// selects 16-bit operands).
struct X86Emitter {
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

  /// mov dx, imm16; out dx, al/ax/eax
  mutating func outAccumulator(port: UInt16, size: Int) {
    movDX(port)
    operandSize(size)
    bytes.append(size == 1 ? 0xEE : 0xEF)
  }

  /// mov esi, [abs32]
  mutating func loadESI(absolute address: UInt32) {
    bytes += [0x8B, 0x35]
    emit(UInt64(address), size: 4)
  }

  /// mov [abs32], esi
  mutating func storeESI(absolute address: UInt32) {
    bytes += [0x89, 0x35]
    emit(UInt64(address), size: 4)
  }

  /// inc esi
  mutating func incESI() { bytes.append(0x46) }

  /// mov eax, esi
  mutating func movEAXFromESI() { bytes += [0x89, 0xF0] }

  /// and eax, imm32
  mutating func andEAX(_ value: UInt32) {
    bytes.append(0x25)
    emit(UInt64(value), size: 4)
  }

  /// or eax, imm32
  mutating func orEAX(_ value: UInt32) {
    bytes.append(0x0D)
    emit(UInt64(value), size: 4)
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
