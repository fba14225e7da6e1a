import ConcurrentBus
import Testing

/// KVM's access rules (checked against the running kernel's `KVM_IOEVENTFD` and upstream
/// `virt/kvm/eventfd.c`), and the address space's own rules.
@Suite("KVM's access rules")
struct KVMAccessRulesTests {
  @Test("a range device receives every access length from 1 to 8 inside it, with its real length")
  func everyLengthReachesRanges() throws {
    let bus = IOBus()
    let device = RecordingDevice("window")
    let window = try bus.register(device, base: 0x1000, length: 0x10)
    for size in 1...8 {
      #expect(
        bus.write(address: 0x1008 - UInt64(size), size: size, value: .max) == .claimed(window.id))
      let seen = try #require(device.lastWriteSeen)
      #expect(seen.offset == 8 - UInt64(size) && seen.size == size)
      #expect(seen.value == UInt64.max >> UInt64(64 - 8 * size), "only the low \(size) bytes")
      #expect(bus.read(address: 0x1000, size: size) == 0xAB)
    }
    #expect(bus.write(address: 0x100E, size: 3, value: 0) == .unclaimed, "straddles the end")
    #expect(bus.write(address: 0x1000, size: 9, value: 0) == .unclaimed, "longer than 8 bytes")
    #expect(device.writeCount == 8)
  }

  @Test("an any-length match sees writes of 3, 5, 6 and 7 bytes; a sized one only its size")
  func anyLengthSeesOddLengths() throws {
    let bus = IOBus()
    let window = try bus.register(RecordingDevice("model"), base: 0x2000, length: 0x100)
    let doorbell = try bus.register(RecordingDevice("any"), address: 0x2010, size: 0, match: .any)
    let sized = try bus.register(RecordingDevice("4"), address: 0x2020, size: 4, match: .any)
    for size in 1...8 {
      #expect(bus.write(address: 0x2010, size: size, value: 1) == .claimed(doorbell.id))
      let expected = size == 4 ? DispatchResult.claimed(sized.id) : .claimed(window.id)
      #expect(bus.write(address: 0x2020, size: size, value: 1) == expected, "size \(size)")
    }
  }

  @Test("a value match whose address + size reaches 2^64 is refused, as KVM refuses it")
  func matchMayNotEndAtTopOfAddressSpace() throws {
    let bus = IOBus()
    let top: UInt64 = 0xFFFF_FFFF_FFFF_FFF8
    for match in [ValueMatch.any, .value(1)] {
      #expect(throws: IOBusError.rangeWrapsAround(base: top, length: 8)) {
        try bus.register(RecordingDevice("x"), address: top, size: 8, match: match)
      }
    }
    #expect(throws: IOBusError.rangeWrapsAround(base: .max, length: 1)) {
      try bus.register(RecordingDevice("x"), address: .max, size: 1, match: .any)
    }
    let below = try bus.register(RecordingDevice("x"), address: top - 1, size: 8, match: .any)
    let anyLength = try bus.register(RecordingDevice("y"), address: .max, size: 0, match: .any)
    #expect(bus.registrations == [below, anyLength])
    // Ranges are the bus's own rule: one may end exactly at 2^64.
    _ = try bus.register(RecordingDevice("z"), base: top, length: 8)
  }

  @Test("plain IOBus() is an MMIO bus: 64-bit addresses, any-length matches")
  func defaultIsMMIO() throws {
    let bus = IOBus()
    #expect(bus.space == .mmio)
    _ = try bus.register(RecordingDevice("high"), base: 0x1_0000_0000, length: 0x1000)
    _ = try bus.register(RecordingDevice("any"), address: 0x10, size: 0, match: .any)
  }

  @Test("a port-I/O bus refuses registrations past port 0xFFFF and size-0 matches")
  func portIORegistrations() throws {
    let bus = IOBus(space: .portIO)
    #expect(bus.space == .portIO)
    #expect(throws: IOBusError.outsideAddressSpace(base: 0xFFF0, length: 0x11)) {
      try bus.register(RecordingDevice("x"), base: 0xFFF0, length: 0x11)
    }
    #expect(throws: IOBusError.outsideAddressSpace(base: 0x1_0000, length: 1)) {
      try bus.register(RecordingDevice("x"), base: 0x1_0000, length: 1)
    }
    #expect(throws: IOBusError.outsideAddressSpace(base: 0xFFFF, length: 2)) {
      try bus.register(RecordingDevice("x"), address: 0xFFFF, size: 2, match: .any)
    }
    #expect(throws: IOBusError.anySizeOnPortIO) {
      try bus.register(RecordingDevice("x"), address: 0x80, size: 0, match: .any)
    }
    #expect(bus.registrations.isEmpty)
    let top = try bus.register(RecordingDevice("top"), base: 0xFFF0, length: 0x10)
    let last = try bus.register(RecordingDevice("last"), address: 0xFFFF, size: 1, match: .any)
    #expect(bus.registrations == [last, top])
  }

  @Test("on a port-I/O bus every access reaching past port 0xFFFF is unclaimed")
  func portIOAccessesBeyond16Bits() throws {
    let bus = IOBus(space: .portIO)
    let device = RecordingDevice("top")
    let top = try bus.register(device, base: 0xFFF0, length: 0x10)
    #expect(bus.write(address: 0xFFFE, size: 2, value: 0) == .claimed(top.id))
    for (address, size) in [(0xFFFF, 2), (0xFFFD, 4), (0x1_0000, 1), (0x1_0000_FFF0, 1)] {
      #expect(bus.write(address: UInt64(address), size: size, value: 0) == .unclaimed)
      #expect(bus.read(address: UInt64(address), size: size) == nil)
    }
    #expect(device.writeCount == 1 && device.readCount == 0)
  }

  @Test(
    "a value wider than the size is refused: stricter than KVM, which accepts and never matches")
  func valueTooWideIsDeliberate() throws {
    let bus = IOBus()
    #expect(throws: IOBusError.valueTooWide(value: 0x100, size: 1)) {
      try bus.register(RecordingDevice("x"), address: 0x10, size: 1, match: .value(0x100))
    }
  }
}
