import Glibc
import KVM
import KVMGuests
import Testing

/// Checks that need no /dev/kvm.
@Suite("GuestProgram and errors without KVM")
struct GuestProgramTests {
  @Test func expectedWritesCycleValuesAcrossIterations() {
    let program = GuestProgram(
      iterations: 7,
      accesses: [
        .portWrite(port: 0x80, size: 1, values: [1, 2, 3]),
        .mmioWrite(address: 0xD000_0000, size: 8, values: [9]),
        .portRead(port: 0x81, size: 1),
      ])
    #expect(
      program.expectedWrites() == [
        GuestWrite(space: .pio, address: 0x80, size: 1, value: 1): 3,
        GuestWrite(space: .pio, address: 0x80, size: 1, value: 2): 2,
        GuestWrite(space: .pio, address: 0x80, size: 1, value: 3): 2,
        GuestWrite(space: .mmio, address: 0xD000_0000, size: 8, value: 9): 7,
      ])
  }

  @Test func referenceOutLoopEncodingMatchesKnownBytes() throws {
    let guest = try GuestProgram(
      iterations: 3, accesses: [.portWrite(port: 0x3F8, size: 1, values: [0x41])]
    )
    .assemble(codeAddress: 0x1000, dataAddress: 0x2000)
    let expected: [UInt8] = [
      0xB9, 3, 0, 0, 0,  // mov ecx, 3
      0x66, 0xBA, 0xF8, 0x03,  // mov dx, 0x3f8
      0xB0, 0x41,  // mov al, 0x41
      0xEE,  // out dx, al
      0x49,  // dec ecx
      0x0F, 0x85, 0xF2, 0xFF, 0xFF, 0xFF,  // jnz -14, back to mov dx
      0xF4,  // hlt
    ]
    #expect(guest.code == expected)
  }

  @Test(arguments: [
    GuestProgram.Access.portWrite(port: 1, size: 8, values: [0]),
    .portWrite(port: 1, size: 1, values: [0x100]),
    .portWrite(port: 1, size: 1, values: []),
    .portRead(port: 1, size: 3),
    .mmioWrite(address: 0xFFFF_FFFE, size: 4, values: [0]),
    .mmioRead(address: 0x1000, size: 16),
  ])
  func invalidAccessesAreRejected(access: GuestProgram.Access) {
    #expect(throws: KVMError.self) {
      try GuestProgram(iterations: 1, accesses: [access]).assemble(
        codeAddress: 0x1000, dataAddress: 0x8000)
    }
  }

  @Test func missingDeviceIsATypedError() {
    #expect(throws: KVMError.cannotOpen(path: "/nonexistent/kvm", errno: ENOENT)) {
      try KVMSystem(path: "/nonexistent/kvm")
    }
  }
}
