import ConcurrentBus
import KVM
import KVMGuests
import Testing

@testable import StressKit

/// The coalesced checks as a specification, driven by hand in the order `VCPU.run` calls a
/// handler (no KVM needed): in an exit window every access but the last is a ring entry,
/// and the last is too when the window ends at HLT; ring entries must be claimed and
/// eligible; nothing comes after a read or a write outside the ranges.
@Suite("Coalesced exit windows")
struct CoalescedWindowTests {
  /// A handler for vCPU 0 over fresh buses, the stable ranges registered (bus only: no
  /// KVM), the churned ones not.
  final class Rig {
    let violations = Violations()
    let checks: CoalescedChecks<MembRCU>
    let handler: CheckedExitHandler<MembRCU>
    let layout = CoalescedLayout(churned: 3)
    var next: UInt32 = 0
    /// Every registration the rig made: their devices hold `checks`, which holds the buses,
    /// so the rig unregisters them when it goes (LeakSanitizer saw the cycle).
    private var registrations: [(bus: IOBus<MembRCU>, registration: Registration)] = []

    init() throws {
      let portBus = IOBus(flavor: MembRCU.self, space: .portIO)
      let mmioBus = IOBus(flavor: MembRCU.self)
      checks = CoalescedChecks(
        layout: layout, writers: 1, violations: violations, portBus: portBus, mmioBus: mmioBus)
      handler = CheckedExitHandler(
        buses: BusExitHandler(portBus: portBus, mmioBus: mmioBus),
        sections: SectionEpochs(vcpus: 1), vcpu: 0, seed: 1, coalesced: checks)
      for slot in 0..<CoalescedLayout.stableCount { try register(slot) }
      handler.beginDispatching()
    }

    deinit {
      handler.endDispatching()
      for (bus, registration) in registrations { try? bus.unregister(registration) }
    }

    /// Registers a device for layout slot `slot` on its range's bus (bus only: no KVM).
    func register(_ slot: Int) throws {
      let range = layout.ranges[slot]
      let bus = range.space == .pio ? checks.portBus : checks.mmioBus
      let registration = try bus.register(
        CoalescedSlotDevice(slot: slot, checks: checks), base: range.address,
        length: range.length)
      registrations.append((bus, registration))
    }

    /// The next sequenced write of writer 0 to layout slot `slot`.
    func write(_ slot: Int) {
      let range = layout.ranges[slot]
      let value = SequencedValue(writer: 0, sequence: next).encoded(size: range.writeSize)
      next += 1
      if range.space == .pio {
        handler.portWrite(port: UInt16(range.address), size: 4, value: value)
      } else {
        handler.mmioWrite(address: range.address, size: range.writeSize, value: value)
      }
    }

    func read() { _ = handler.portRead(port: 0x2000, size: 4) }

    var kinds: Set<String> { Set(violations.summary.map(\.kind.rawValue)) }
  }

  @Test("a ring entry then the exit in hand: one entry, matching the run loop's count")
  func entriesThenExit() throws {
    let rig = try Rig()
    rig.handler.didExitGuest()
    rig.write(0)
    rig.write(1)
    rig.read()
    rig.handler.willEnterGuest()
    #expect(rig.handler.window.ringEntries == 2)
    rig.handler.checkRingCount(drainedByRunLoop: 2)
    #expect(rig.kinds.isEmpty)
  }

  @Test("the run loop's count must match the order's")
  func countMismatch() throws {
    let rig = try Rig()
    rig.handler.didExitGuest()
    rig.write(0)
    rig.read()
    rig.handler.willEnterGuest()
    rig.handler.checkRingCount(drainedByRunLoop: 2)
    #expect(rig.kinds == ["drain-order"])
  }

  @Test("an access after a read breaks the order")
  func accessAfterRead() throws {
    let rig = try Rig()
    rig.handler.didExitGuest()
    rig.read()
    rig.write(0)
    rig.handler.willEnterGuest()
    #expect(rig.kinds == ["drain-order"])
  }

  @Test("the last write of a window that ends at HLT is a ring entry")
  func haltWindow() throws {
    let rig = try Rig()
    rig.handler.didExitGuest()
    rig.write(2)  // churned, not registered: unclaimed, and no zone
    rig.handler.endDispatching()
    #expect(rig.kinds == ["coalesced-late", "coalesced-unclaimed"])
    rig.handler.beginDispatching()
  }

  @Test("an unclaimed exit is fine; an unclaimed ring entry is not")
  func unclaimedExitVersusEntry() throws {
    let rig = try Rig()
    rig.handler.didExitGuest()
    rig.write(2)  // the exit in hand: the range is out
    rig.handler.willEnterGuest()
    #expect(rig.kinds.isEmpty)
    rig.handler.didExitGuest()
    rig.write(2)  // a ring entry: followed by another access
    rig.read()
    rig.handler.willEnterGuest()
    #expect(rig.kinds.contains("coalesced-unclaimed"))
  }

  @Test("an entry for a range that may hold buffered writes and is claimed is fine")
  func eligibleClaimedEntry() throws {
    let rig = try Rig()
    try rig.register(2)
    rig.checks.allowBufferedWrites(2)
    rig.handler.didExitGuest()
    rig.write(2)
    rig.read()
    rig.handler.willEnterGuest()
    #expect(rig.kinds.isEmpty)
    rig.checks.forbidBufferedWrites(2)
    rig.handler.didExitGuest()
    rig.write(2)
    rig.read()
    rig.handler.willEnterGuest()
    #expect(rig.kinds == ["coalesced-late"])
  }

  @Test("values out of order, twice or missing are reported by kind")
  func sequenceKinds() throws {
    let rig = try Rig()
    rig.handler.didExitGuest()
    rig.write(0)  // #0
    rig.next += 1  // #1 lost
    rig.write(0)  // #2: skipped
    rig.next -= 1
    rig.write(1)  // #2 again: repeated
    rig.read()
    rig.handler.willEnterGuest()
    rig.checks.finish(executed: [3])
    #expect(rig.kinds == ["sequence-skipped", "sequence-repeated"])
    rig.checks.finish(executed: [5])
    #expect(rig.kinds.contains("sequence-count"))
  }

  @Test("a device reports a write that reaches it after its release")
  func deviceAfterRelease() throws {
    let rig = try Rig()
    let device = CoalescedSlotDevice(slot: 0, checks: rig.checks)
    _ = device.write(offset: 0, size: 4, value: 0)
    #expect(rig.kinds.isEmpty)
    device.release()
    _ = device.write(offset: 0, size: 4, value: 1)
    #expect(rig.kinds == ["use-after-unregister"])
  }

  @Test("every range's address maps back to its slot, and nothing else does")
  func layoutLookup() {
    let layout = CoalescedLayout(churned: 6)
    for (slot, range) in layout.ranges.enumerated() {
      #expect(layout.slot(range.space, range.address) == slot)
      #expect(layout.slot(range.space, range.address + range.length - 1) == slot)
      #expect(layout.slot(range.space, range.address + range.length) == nil)
    }
    #expect(layout.slot(.pio, 0x2000) == nil)
    #expect(layout.slot(.mmio, 0xD800_0000) == nil)
    #expect(layout.slot(.pio, CoalescedLayout.mmioBase) == nil)
    #expect(
      layout.sequencedWrites.count
        == layout.churnedSlots.count
        * (1 + CoalescedLayout.stableBurst * CoalescedLayout.stableCount))
  }
}
