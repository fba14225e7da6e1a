import BusModel
import ConcurrentBus
import RCU
import Testing

/// Batches are judged on the table they end with: moves, swaps, chains and
/// remove-then-add work in one publish; an invalid end state is a typed error that names
/// entries as the caller knows them and changes nothing.
@Suite("End-state batches")
struct EndStateBatchTests {
  /// Three ranges and two value matches, and what the bus answers at every place they use.
  struct Layout {
    let bus: IOBus<MembRCU>
    let ranges: [Registration]
    let matches: [Registration]

    init() throws {
      let bus = IOBus()
      self.bus = bus
      ranges = try (0..<3).map { index in
        try bus.register(
          RecordingDevice("bar\(index)", readValue: UInt64(index)),
          base: 0x1000 * UInt64(index + 1), length: 0x100)
      }
      matches = try (0..<2).map { index in
        try bus.register(
          RecordingDevice("doorbell\(index)"), address: 0x8000 + 4 * UInt64(index), size: 4,
          match: .any)
      }
    }

    /// The registrations, publish count and answers at every place: what "nothing changed"
    /// compares.
    func fingerprint() -> [String] {
      var answers = bus.registrations.map(\.description) + ["\(bus.publishes)"]
      for address: UInt64 in [0x1000, 0x2000, 0x3000, 0x4000, 0x8000, 0x8004, 0x8008] {
        answers.append("\(String(describing: bus.read(address: address, size: 4)))")
        answers.append("\(bus.write(address: address, size: 4, value: 1))")
      }
      return answers
    }
  }

  @Test("two ranges swap places")
  func swapRanges() throws {
    let layout = try Layout()
    let bus = layout.bus
    let publishes = bus.publishes
    try bus.update { tx in
      _ = try tx.move(layout.ranges[0], to: 0x2000)
      _ = try tx.move(layout.ranges[1], to: 0x1000)
    }
    #expect(bus.publishes == publishes + 1)
    #expect(bus.read(address: 0x1000, size: 4) == 1 && bus.read(address: 0x2000, size: 4) == 0)
  }

  @Test("two value matches swap addresses")
  func swapMatches() throws {
    let layout = try Layout()
    let moved = try layout.bus.update { tx in
      (try tx.move(layout.matches[0], to: 0x8004), try tx.move(layout.matches[1], to: 0x8000))
    }
    #expect(layout.bus.write(address: 0x8004, size: 4, value: 1) == .claimed(moved.0.id))
    #expect(layout.bus.write(address: 0x8000, size: 4, value: 1) == .claimed(moved.1.id))
  }

  @Test("a chain of moves in the order that overlaps at every step")
  func chain() throws {
    let layout = try Layout()
    try layout.bus.update { tx in
      // Each of the first two moves lands on a range still there, which the next one moves.
      for step in 0..<3 {
        _ = try tx.move(layout.ranges[step], to: 0x1000 * UInt64(step + 2))
      }
    }
    #expect(layout.bus.read(address: 0x1000, size: 4) == nil)
    #expect((2...4).map { layout.bus.read(address: 0x1000 * UInt64($0), size: 4) } == [0, 1, 2])
  }

  @Test("a range moved twice in one batch ends where the last move put it")
  func movedTwice() throws {
    let layout = try Layout()
    try layout.bus.update { tx in
      let first = try tx.move(layout.ranges[0], to: 0x2000)  // onto bar1, for now
      _ = try tx.move(first, to: 0x4000)
    }
    #expect(layout.bus.read(address: 0x4000, size: 4) == 0)
    #expect(layout.bus.read(address: 0x2000, size: 4) == 1)
  }

  @Test("remove then add the same range, and add then remove an overlapping one")
  func removeThenAdd() throws {
    let layout = try Layout()
    let replacement = try layout.bus.update { tx in
      try tx.unregister(layout.ranges[1])
      let transient = try tx.register(RecordingDevice("transient"), base: 0x1080, length: 0x100)
      try tx.unregister(transient)
      return try tx.register(RecordingDevice("new", readValue: 9), base: 0x2000, length: 0x100)
    }
    #expect(layout.bus.read(address: 0x2000, size: 4) == 9)
    #expect(layout.bus.registrations.contains(replacement))
  }

  /// An update that must be refused, what it must throw, and proof nothing changed.
  func expectRefused(
    _ layout: Layout, throwing expected: IOBusError,
    _ body: (inout IOBusTransaction, Layout) throws -> Void
  ) {
    let before = layout.fingerprint()
    #expect(throws: expected) {
      try layout.bus.update { tx in try body(&tx, layout) }
    }
    #expect(layout.fingerprint() == before)
    MembRCU.barrier()
    #expect(layout.bus.retiredSnapshots == 0 && layout.bus.reclamationBacklog.isEmpty)
  }

  @Test("an overlap left at the end names a moved registration by its place on the bus")
  func movedOntoAnother() throws {
    let layout = try Layout()
    let expected = IOBusError.rangesOverlap(
      .registered(layout.ranges[1]),
      .moved(layout.ranges[0], to: .range(base: 0x2080, length: 0x100)))
    expectRefused(layout, throwing: expected) { tx, layout in
      let once = try tx.move(layout.ranges[0], to: 0x4000)
      _ = try tx.move(once, to: 0x2080)
    }
  }

  @Test("two new ranges that overlap are named by their ranges, not by the batch's identifiers")
  func twoNew() throws {
    let expected = IOBusError.rangesOverlap(
      .new(.range(base: 0x5000, length: 0x10)), .new(.range(base: 0x5008, length: 8)))
    expectRefused(try Layout(), throwing: expected) { tx, _ in
      _ = try tx.register(RecordingDevice("a"), base: 0x5008, length: 8)
      _ = try tx.register(RecordingDevice("b"), base: 0x5000, length: 0x10)
    }
  }

  @Test("a swap half done collides: the match stays named by its registration")
  func halfSwap() throws {
    let layout = try Layout()
    let expected = IOBusError.matchesCollide(
      .registered(layout.matches[1]),
      .moved(layout.matches[0], to: .valueMatch(address: 0x8004, size: 4, match: .any)))
    expectRefused(layout, throwing: expected) { tx, layout in
      _ = try tx.move(layout.matches[0], to: 0x8004)
    }
  }

  @Test("the first broken rule in order: the limit, the address space, overlaps, collisions")
  func ruleOrder() throws {
    let port = IOBus(space: .portIO, maximumEntries: 3)
    let kept = try port.register(RecordingDevice("kept"), base: 0x60, length: 4)
    let before = port.registrations
    let allBroken = { (tx: inout IOBusTransaction, extra: Bool) throws(IOBusError) in
      _ = try tx.register(RecordingDevice("collides"), address: 0x80, size: 1, match: .any)
      _ = try tx.register(RecordingDevice("collides"), address: 0x80, size: 1, match: .any)
      _ = try tx.register(RecordingDevice("overlaps"), base: 0x62, length: 4)
      _ = try tx.register(RecordingDevice("outside"), base: 0xFFFF, length: 2)
      if extra { _ = try tx.register(RecordingDevice("one too many"), base: 0x100, length: 1) }
    }
    #expect(throws: IOBusError.tableFull(limit: 3)) {
      try port.update { tx throws(IOBusError) in try allBroken(&tx, true) }
    }
    let limitless = IOBus(space: .portIO)
    let other = try limitless.register(RecordingDevice("kept"), base: 0x60, length: 4)
    #expect(throws: IOBusError.outsideAddressSpace(base: 0xFFFF, length: 2)) {
      try limitless.update { tx throws(IOBusError) in try allBroken(&tx, false) }
    }
    #expect(
      throws: IOBusError.rangesOverlap(.registered(other), .new(.range(base: 0x62, length: 4)))
    ) {
      try limitless.update { tx in
        _ = try tx.register(RecordingDevice("collides"), address: 0x80, size: 1, match: .any)
        _ = try tx.register(RecordingDevice("collides"), address: 0x80, size: 1, match: .any)
        _ = try tx.register(RecordingDevice("overlaps"), base: 0x62, length: 4)
      }
    }
    #expect(port.registrations == before && port.registrations == [kept])
  }

  @Test("errors print like registrations: hex addresses, ranges as [0x..., +0x...)")
  func hexMessages() throws {
    let bus = IOBus(space: .portIO)
    let kept = try bus.register(RecordingDevice("kept"), base: 0x3F8, length: 8)
    let cases: [(IOBusError, String)] = [
      (.outsideAddressSpace(base: 0xFFFF, length: 2), "outsideAddressSpace([0xffff, +0x2))"),
      (
        .rangeWrapsAround(base: 0xFFFF_FFFF_FFFF_FFF8, length: 16),
        "rangeWrapsAround([0xfffffffffffffff8, +0x10))"
      ),
      (.valueTooWide(value: 0x1FF, size: 1), "valueTooWide(value: 0x1ff, size: 1)"),
      (
        .rangesOverlap(.registered(kept), .new(.range(base: 0x3FC, length: 8))),
        "rangesOverlap(registration #1 [0x3f8, +0x8), new [0x3fc, +0x8))"
      ),
      (
        .rangesOverlap(.registered(kept), .moved(kept, to: .range(base: 0x400, length: 8))),
        "rangesOverlap(registration #1 [0x3f8, +0x8), registration #1 [0x3f8, +0x8) moved to [0x400, +0x8))"
      ),
      (
        .matchesCollide(
          .new(.valueMatch(address: 0x80, size: 1, match: .value(0xA))),
          .new(.valueMatch(address: 0x80, size: 0, match: .any))),
        "matchesCollide(new at 0x80 size 1 value 0xa, new at 0x80 size 0 any value)"
      ),
      (.unknownRegistration(kept), "unknownRegistration(registration #1 [0x3f8, +0x8))"),
    ]
    for (error, text) in cases { #expect("\(error)" == text) }
    // And as thrown: the refused registration's place, in hex.
    #expect(throws: IOBusError.outsideAddressSpace(base: 0xFFFF, length: 2)) {
      try bus.register(RecordingDevice("x"), base: 0xFFFF, length: 2)
    }
  }
}
