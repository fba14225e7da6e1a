import KVM
import KVMGuests
import Testing

/// The sequenced-write codec and checker, without KVM.
@Suite("Sequenced writes and SequenceCheck")
struct SequenceCheckTests {
  @Test(arguments: [4, 8])
  func valuesRoundTripAndRejectForeignBits(size: Int) throws {
    let value = SequencedValue(writer: 0xA5, sequence: 0x1234_5678)
    #expect(value.sequence == 0x34_5678, "reduced modulo 2^24")
    let decoded = try #require(SequencedValue(decoding: value.encoded(size: size), size: size))
    #expect(decoded == value)
    #expect(SequencedValue(decoding: value.encoded(size: size) | 1 << 40, size: size) == nil)
    #expect(SequencedValue(decoding: 0, size: 2) == nil)
  }

  @Test func inOrderDeliveriesPassAndWrapAround() {
    let check = SequenceCheck(writers: 2, startingAt: [SequencedValue.sequenceMask - 1, 0])
    for step in 0..<4 {
      let sequence = (SequencedValue.sequenceMask - 1) &+ UInt32(step)
      #expect(check.record(SequencedValue(writer: 0, sequence: sequence).encoded(size: 4), size: 4))
      #expect(
        check.record(SequencedValue(writer: 1, sequence: UInt32(step)).encoded(size: 8), size: 8))
    }
    #expect(check.finish(executed: [4, 4]) == [])
  }

  @Test func lossDuplicationReorderAndForeignValuesAreReported() {
    let check = SequenceCheck(writers: 1)
    func deliver(_ sequence: UInt32) {
      check.record(SequencedValue(writer: 0, sequence: sequence).encoded(size: 4), size: 4)
    }
    deliver(0)
    deliver(2)  // #1 lost (or late)
    deliver(2)  // duplicated
    deliver(1)  // late: out of order
    check.record(SequencedValue(writer: 3, sequence: 0).encoded(size: 4), size: 4)  // no writer 3
    let found = check.finish(executed: [3])
    #expect(
      found.map(\.kind) == [.skipped, .repeated, .repeated, .malformed, .countMismatch])
    #expect(found.first == SequenceViolation(kind: .skipped, writer: 0, expected: 1, received: 2))
    #expect(
      found.last == SequenceViolation(kind: .countMismatch, writer: 0, expected: 3, received: 4))
    #expect(check.violationCount == 5)
  }

  @Test func aTailLostAfterTheLastDeliveryIsReported() {
    let check = SequenceCheck(writers: 1)
    check.record(SequencedValue(writer: 0, sequence: 0).encoded(size: 4), size: 4)
    #expect(check.finish(executed: [2]).map(\.kind) == [.countMismatch])
  }

  @Test(arguments: [
    GuestProgram.SequencedWrite(space: .pio, address: 0x80, size: 8),
    .init(space: .pio, address: 0x1_0000),
    .init(space: .mmio, address: 0xD000_0000, size: 2),
    .init(space: .mmio, address: 0xFFFF_FFFE, size: 4),
  ])
  func sequencedWritesAGuestCannotMakeAreRejected(write: GuestProgram.SequencedWrite) {
    #expect(throws: KVMError.self) {
      try GuestProgram(iterations: 1, sequencedWrites: [write]).assemble(
        codeAddress: 0x1000, dataAddress: 0x8000)
    }
  }

  @Test func aSequencedPortWriteEncodesTheCounterAndTheWriter() throws {
    let guest = try GuestProgram(
      iterations: 2, writer: 3, sequencedWrites: [.init(space: .pio, address: 0x1000)]
    ).assemble(codeAddress: 0x1000, dataAddress: 0x2000)
    let counter = try #require(guest.sequenceCounterAddress)
    #expect(counter == 0x2000)
    let iteration: [UInt8] = [
      0x89, 0xF0,  // mov eax, esi
      0x25, 0xFF, 0xFF, 0xFF, 0x00,  // and eax, 0xFFFFFF
      0x0D, 0x00, 0x00, 0x00, 0x03,  // or eax, 3 << 24
      0x66, 0xBA, 0x00, 0x10, 0xEF,  // mov dx, 0x1000; out dx, eax
      0x46,  // inc esi
    ]
    var expected: [UInt8] = [0x8B, 0x35, 0x00, 0x20, 0, 0]  // mov esi, [counter]
    // mov ecx, 2; the iteration; dec ecx; jnz -25 (back to mov eax, esi)
    expected += [0xB9, 2, 0, 0, 0] + iteration + [0x49, 0x0F, 0x85, 0xE7, 0xFF, 0xFF, 0xFF]
    expected += [0x89, 0x35, 0x00, 0x20, 0, 0, 0xF4]  // mov [counter], esi; hlt
    #expect(guest.code == expected)
    #expect(
      GuestProgram(iterations: 5, sequencedWrites: [.init(space: .pio, address: 1)])
        .expectedWrites() == [:])
  }
}
