// The listings of ReprogrammingBARs.md, in the article's order, and checks of what the
// article says about them.

import ConcurrentBus
import Synchronization
import Testing

// listing: reprogramming-bar-window
/// A BAR's MMIO window, reduced to one register that says which BAR it is.
final class BARWindow: IODevice {
  let number: UInt64

  init(number: UInt64) { self.number = number }

  func read(offset: UInt64, size: Int) -> UInt64? { number }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}
// end listing

// listing: reprogramming-config-space
/// A PCI function's configuration space on the port-I/O bus (configuration mechanism #1,
/// reduced to one function): the guest selects a register by writing its number to 0xCF8
/// and reads or writes it at 0xCFC. BAR writes are only recorded; turning memory decoding
/// on in the command register applies them, every BAR in one batch.
final class ConfigSpace: IODevice {
  static let command: UInt64 = 0x04
  static let memorySpace: UInt64 = 1 << 1
  static let firstBAR: UInt64 = 0x10

  struct Registers {
    var selected: UInt64 = 0
    /// The BARs as registered on the bus, and the bases the guest last wrote.
    var bars: [Registration]
    var programmed: [UInt64]
  }

  let mmio: IOBus<MembRCU>
  let registers: Mutex<Registers>

  init(mmio: IOBus<MembRCU>, bars: [Registration]) {
    self.mmio = mmio
    let bases = bars.map { bar -> UInt64 in
      guard case .range(let base, _) = bar.kind else { return 0 }
      return base
    }
    registers = Mutex(Registers(bars: bars, programmed: bases))
  }

  /// The BARs as they are registered now.
  var bars: [Registration] { registers.withLock { $0.bars } }

  func read(offset: UInt64, size: Int) -> UInt64? {
    registers.withLock { registers in
      guard offset == 4 else { return registers.selected }
      let bar = Int((registers.selected &- Self.firstBAR) / 4)
      return registers.programmed.indices.contains(bar) ? registers.programmed[bar] : 0
    }
  }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    registers.withLock { registers in
      guard offset == 4 else {
        registers.selected = value & 0xFC  // CONFIG_ADDRESS: the register number
        return
      }
      let bar = Int((registers.selected &- Self.firstBAR) / 4)
      if registers.programmed.indices.contains(bar) {
        registers.programmed[bar] = value & ~0xF  // recorded, not applied yet
      } else if registers.selected == Self.command, value & Self.memorySpace != 0 {
        // Decoding back on: every BAR to where the guest put it, in one publish, judged
        // on where they all end up. Moves never wait for a grace period, so this batch is
        // allowed here, inside the guest's port write.
        let targets = Array(zip(registers.bars, registers.programmed))
        do {
          registers.bars = try mmio.update { tx in
            try targets.map { bar, base in try tx.move(bar, to: base) }
          }
        } catch {
          print("BARs not moved: \(error)")  // onto another device, say: none moves
        }
      }
    }
    return true
  }
}
// end listing

@Suite("Article: Reprogramming BARs")
struct ReprogrammingBARsTests {
  @Test("two BARs swap places in one batch")
  func swap() throws {
    // listing: reprogramming-swap
    let mmio = IOBus()
    let bar0 = try mmio.register(BARWindow(number: 0), base: 0xE000_0000, length: 0x1000)
    let bar1 = try mmio.register(BARWindow(number: 1), base: 0xE000_1000, length: 0x1000)

    // Either move alone would overlap the other BAR; the table the batch ends with has no
    // overlap, and that is what the bus checks.
    let (moved0, moved1) = try mmio.update { tx in
      (try tx.move(bar0, to: 0xE000_1000), try tx.move(bar1, to: 0xE000_0000))
    }
    let atFirst = mmio.read(address: 0xE000_0000, size: 4)  // 1
    let atSecond = mmio.read(address: 0xE000_1000, size: 4)  // 0
    // end listing
    #expect(atFirst == 1 && atSecond == 0)
    #expect(mmio.registrations == [moved1, moved0])
    #expect(mmio.publishes == 3 && mmio.gracePeriodWaits == 0, "one publish for the swap")
  }

  @Test("a chain of three moves, each onto the place the next one leaves")
  func chain() throws {
    let mmio = IOBus()
    let bars = try (0..<3).map { index in
      try mmio.register(
        BARWindow(number: UInt64(index)), base: 0xE000_0000 + UInt64(index) * 0x1000,
        length: 0x1000)
    }
    let publishes = mmio.publishes
    // listing: reprogramming-chain
    // The guest rebalances: each BAR shifts up by one slot, written in the order that
    // lands every move on a BAR still there.
    let shifted = try mmio.update { tx in
      try bars.enumerated().map { index, bar in
        try tx.move(bar, to: 0xE000_1000 + UInt64(index) * 0x1000)
      }
    }
    // end listing
    #expect(mmio.read(address: 0xE000_0000, size: 4) == nil)
    #expect(
      (1...3).map { mmio.read(address: 0xE000_0000 + UInt64($0) * 0x1000, size: 4) } == [0, 1, 2])
    #expect(mmio.registrations == shifted && mmio.publishes == publishes + 1)
  }

  @Test("a config write moves two BARs from inside the device callback")
  func configWrite() throws {
    // listing: reprogramming-config-write
    let pio = IOBus(space: .portIO)
    let mmio = IOBus()
    let bar0 = try mmio.register(BARWindow(number: 0), base: 0xE000_0000, length: 0x1000)
    let bar1 = try mmio.register(BARWindow(number: 1), base: 0xE000_1000, length: 0x1000)
    let config = ConfigSpace(mmio: mmio, bars: [bar0, bar1])
    let window = try pio.register(config, base: 0xCF8, length: 8)

    // The guest swaps the BARs: each BAR write is only recorded...
    for (register, base): (UInt64, UInt64) in [(0x10, 0xE000_1000), (0x14, 0xE000_0000)] {
      _ = pio.write(address: 0xCF8, size: 4, value: register)
      _ = pio.write(address: 0xCFC, size: 4, value: base)
    }
    // ...until it turns memory decoding back on: both move in one batch, from inside
    // this port write.
    _ = pio.write(address: 0xCF8, size: 4, value: ConfigSpace.command)
    _ = pio.write(address: 0xCFC, size: 4, value: ConfigSpace.memorySpace)
    let atFirst = mmio.read(address: 0xE000_0000, size: 4)  // 1
    let atSecond = mmio.read(address: 0xE000_1000, size: 4)  // 0
    // end listing
    #expect(atFirst == 1 && atSecond == 0)
    #expect(
      config.bars.map(\.kind) == [
        .range(base: 0xE000_1000, length: 0x1000), .range(base: 0xE000_0000, length: 0x1000),
      ])
    #expect(mmio.publishes == 3, "the two registers and one batch")
    try pio.unregister(window)
  }

  @Test("an end state that overlaps is refused, naming the entries as the caller knows them")
  func refused() throws {
    let mmio = IOBus()
    let bar0 = try mmio.register(BARWindow(number: 0), base: 0xE000_0000, length: 0x1000)
    let bar1 = try mmio.register(BARWindow(number: 1), base: 0xE000_1000, length: 0x1000)
    let before = mmio.registrations
    // listing: reprogramming-refused
    do {
      try mmio.update { tx in
        let moved = try tx.move(bar0, to: 0xE000_2000)
        _ = try tx.move(moved, to: 0xE000_1800)  // into bar 1, which stays where it is
      }
    } catch {
      // rangesOverlap(registration #2 [0xe0001000, +0x1000),
      //   registration #1 [0xe0000000, +0x1000) moved to [0xe0001800, +0x1000))
      print(error)
    }
    // end listing
    #expect(mmio.registrations == before)
    #expect(
      throws: IOBusError.rangesOverlap(
        .registered(bar1), .moved(bar0, to: .range(base: 0xE000_1800, length: 0x1000)))
    ) {
      try mmio.update { tx in
        let moved = try tx.move(bar0, to: 0xE000_2000)
        _ = try tx.move(moved, to: 0xE000_1800)
      }
    }
    let error = IOBusError.rangesOverlap(
      .registered(bar1), .moved(bar0, to: .range(base: 0xE000_1800, length: 0x1000)))
    #expect(
      "\(error)"
        == "rangesOverlap(registration #2 [0xe0001000, +0x1000), registration #1 [0xe0000000, +0x1000) moved to [0xe0001800, +0x1000))"
    )
  }
}
