// The listings of IOEventFDSemantics.md, in the article's order, and a check of every row
// of its KVM rules table.

import ConcurrentBus
import Testing

@Suite("Article: ioeventfd semantics")
struct IOEventFDSemanticsTests {
  @Test("matching: address, size (0 for any length) and value, as KVM")
  func matching() throws {
    // listing: ioeventfd-matching
    let mmio = IOBus()
    let doorbell = try EventFD()
    let anyLength = try EventFD()
    _ = try mmio.registerEventFD(doorbell, address: 0x1000, size: 4, match: .value(1))
    _ = try mmio.registerEventFD(anyLength, address: 0x2000, size: 0, match: .any)

    let hit = mmio.write(address: 0x1000, size: 4, value: 1)  // claimed
    let otherValue = mmio.write(address: 0x1000, size: 4, value: 2)  // unclaimed
    let otherSize = mmio.write(address: 0x1000, size: 2, value: 1)  // unclaimed
    let highBytes = mmio.write(address: 0x1000, size: 4, value: 0x7_0000_0001)  // claimed
    let lengths = (1...8).map { mmio.write(address: 0x2000, size: $0, value: 0) }  // all claimed
    let doorbellCount = doorbell.drain()  // 2: one signal of 1 per hit
    let anyLengthCount = anyLength.drain()  // 8
    // end listing
    let registrations = mmio.registrations
    #expect(hit == .claimed(registrations[0].id) && highBytes == hit)
    #expect(otherValue == .unclaimed && otherSize == .unclaimed)
    #expect(lengths.allSatisfy { $0 == .claimed(registrations[1].id) })
    #expect(doorbellCount == 2 && anyLengthCount == 8)
  }

  @Test("a write no eventfd takes falls through to the range; reads never see eventfds")
  func fallThrough() throws {
    // listing: ioeventfd-fall-through
    let mmio = IOBus()
    let window = try mmio.register(SerialPort(), base: 0xFEB0_0000, length: 0x200)
    let queue0 = try EventFD()
    let notifier = try mmio.registerEventFD(
      queue0, address: 0xFEB0_0050, size: 4, match: .value(0))

    let kick = mmio.write(address: 0xFEB0_0050, size: 4, value: 0)  // .claimed(notifier.id)
    let other = mmio.write(address: 0xFEB0_0050, size: 4, value: 3)  // .claimed(window.id)
    let read = mmio.read(address: 0xFEB0_0050, size: 4)  // 0, from the window
    // end listing
    #expect(kick == .claimed(notifier.id))
    #expect(other == .claimed(window.id))
    #expect(read == 0)
    #expect(queue0.drain() == 1)
  }

  @Test("a signal that fails still claims the write, and is counted")
  func failedSignal() throws {
    // listing: ioeventfd-failed-signal
    let mmio = IOBus()
    let kick = try EventFD()
    let notifier = try mmio.registerEventFD(kick, address: 0x1000, size: 4, match: .any)
    try kick.signal(EventFD.maxCounter)  // nobody drains it: the counter is full

    let result = mmio.write(address: 0x1000, size: 4, value: 0)  // .claimed(notifier.id)
    let lost = mmio.eventFDStatistics.failedSignals  // 1
    let lostHere = (mmio.device(of: notifier) as? IOEventFD)?.failedSignals  // 1
    // end listing
    #expect(result == .claimed(notifier.id))
    #expect(lost == 1 && lostHere == 1)
  }

  @Test("registration rules: every refusal of the article, with its error")
  func refusals() throws {
    // listing: ioeventfd-refusals
    let mmio = IOBus()
    let pio = IOBus(space: .portIO)
    let kick = try EventFD()
    _ = try mmio.registerEventFD(kick, address: 0x1000, size: 4, match: .value(1))

    /// The bus error a registration throws, or nil if it succeeds.
    func refusal(_ register: () throws -> Registration) -> IOBusError? {
      do {
        _ = try register()
        return nil
      } catch {
        return error as? IOBusError
      }
    }
    let badSize = refusal {  // .invalidSize(3)
      try mmio.registerEventFD(kick, address: 0x2000, size: 3, match: .any)
    }
    let anyLengthWithValue = refusal {  // .valueMatchNeedsSize
      try mmio.registerEventFD(kick, address: 0x2000, size: 0, match: .value(1))
    }
    let wraps = refusal {  // .rangeWrapsAround: address + size reaches 2^64
      try mmio.registerEventFD(kick, address: 0xFFFF_FFFF_FFFF_FFF8, size: 8, match: .any)
    }
    let collision = refusal {  // .matchesCollide: same address and size, and .any
      try mmio.registerEventFD(kick, address: 0x1000, size: 4, match: .any)
    }
    let tooWide = refusal {  // .valueTooWide: KVM accepts it, and never matches
      try mmio.registerEventFD(kick, address: 0x3000, size: 1, match: .value(0x100))
    }
    let anyLengthPort = refusal {  // .anySizeOnPortIO
      try pio.registerEventFD(kick, address: 0x60, size: 0, match: .any)
    }
    let pastLastPort = refusal {  // .outsideAddressSpace: ports end at 0xFFFF
      try pio.registerEventFD(kick, address: 0xFFFF, size: 2, match: .any)
    }
    // end listing
    let existing = mmio.registrations[0]
    #expect(badSize == .invalidSize(3))
    #expect(anyLengthWithValue == .valueMatchNeedsSize)
    #expect(wraps == .rangeWrapsAround(base: 0xFFFF_FFFF_FFFF_FFF8, length: 8))
    #expect(
      collision
        == .matchesCollide(
          .registered(existing), .new(.valueMatch(address: 0x1000, size: 4, match: .any))))
    #expect(tooWide == .valueTooWide(value: 0x100, size: 1))
    #expect(anyLengthPort == .anySizeOnPortIO)
    #expect(pastLastPort == .outsideAddressSpace(base: 0xFFFF, length: 2))
    #expect(mmio.registrations == [existing] && pio.registrations.isEmpty)
  }

  @Test(
    "KVM's collision rule: same address, and either size 0, or equal sizes with .any or equal values",
    arguments: [
      (4, ValueMatch.value(1), 4, ValueMatch.value(1), true),
      (4, .value(1), 4, .value(2), false),
      (4, .value(1), 4, .any, true),
      (4, .any, 4, .value(2), true),
      (4, .any, 2, .any, false),
      (4, .value(1), 2, .value(1), false),
      (0, .any, 4, .value(1), true),
      (4, .value(1), 0, .any, true),
    ])
  func collisions(
    firstSize: Int, first: ValueMatch, secondSize: Int, secondMatch: ValueMatch, collides: Bool
  ) throws {
    let mmio = IOBus()
    let existing = try mmio.registerEventFD(
      EventFD(), address: 0x1000, size: firstSize, match: first)
    let second = try EventFD()
    let result = Result { () throws(IOBusError) in
      try mmio.registerEventFD(second, address: 0x1000, size: secondSize, match: secondMatch)
    }
    if collides {
      let new = RegistrationKind.valueMatch(address: 0x1000, size: secondSize, match: secondMatch)
      #expect(
        throws: IOBusError.matchesCollide(.registered(existing), .new(new)),
        performing: { try result.get() })
    } else {
      #expect(throws: Never.self, performing: { try result.get() })
    }
  }

  @Test("edges of the table: a range may end at 2^64, ports 0xFFFF and 0xFFFE take sizes 1 and 2")
  func edges() throws {
    let mmio = IOBus()
    let top = try mmio.register(SerialPort(), base: 0xFFFF_FFFF_FFFF_FFF8, length: 8)
    #expect(mmio.write(address: .max, size: 1, value: 0) == .claimed(top.id))
    #expect(mmio.write(address: .max, size: 2, value: 0) == .unclaimed, "wraps past 2^64")
    let pio = IOBus(space: .portIO)
    let lastPort = try pio.registerEventFD(EventFD(), address: 0xFFFF, size: 1, match: .any)
    let lastWord = try pio.registerEventFD(EventFD(), address: 0xFFFE, size: 2, match: .any)
    #expect(pio.write(address: 0xFFFF, size: 1, value: 0) == .claimed(lastPort.id))
    #expect(pio.write(address: 0xFFFE, size: 2, value: 0) == .claimed(lastWord.id))
    #expect(pio.write(address: 0xFFFF, size: 2, value: 0) == .unclaimed)
  }
}
