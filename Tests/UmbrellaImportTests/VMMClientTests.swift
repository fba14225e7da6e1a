// What a VMM author writes first against issue 19's API, with `import ConcurrentBus` alone:
// BARs swapped and shifted in one batch, a device that knows which vCPU is accessing, a
// bus with an entry limit, and the reclamation backlog.
import ConcurrentBus
import Testing

/// A BAR's register file: reads answer which BAR it is.
final class BARDevice: IODevice {
  let number: UInt64
  init(_ number: UInt64) { self.number = number }
  func read(offset: UInt64, size: Int) -> UInt64? { number }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

/// A local interrupt controller page at one address for every vCPU: its ID register reads
/// back the accessing vCPU's index, and its doorbell signals that vCPU's own eventfd.
final class LocalControllerPage: IODevice {
  static let idRegister: UInt64 = 0x20
  static let doorbell: UInt64 = 0xB0
  let doorbells: [EventFD]

  init(vcpus: Int) throws {
    doorbells = try (0..<vcpus).map { _ in try EventFD() }
  }

  func read(offset: UInt64, size: Int) -> UInt64? { nil }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { false }

  func read(offset: UInt64, size: Int, vcpu: Int) -> UInt64? {
    offset == Self.idRegister ? UInt64(truncatingIfNeeded: vcpu) : 0
  }

  func write(offset: UInt64, size: Int, value: UInt64, vcpu: Int) -> Bool {
    // The index comes from the caller as is: bound it before using it.
    guard offset == Self.doorbell, doorbells.indices.contains(vcpu) else { return false }
    return doorbells[vcpu].trySignal() == .signalled
  }
}

@Suite("a VMM client of end-state batches, vCPU indices, limits and the backlog")
struct VMMClientTests {
  @Test("two BARs swap places in one batch, one publish")
  func swap() throws {
    let mmio = IOBus()
    let bar0 = try mmio.register(BARDevice(0), base: 0x1000, length: 0x100)
    let bar1 = try mmio.register(BARDevice(1), base: 0x2000, length: 0x100)
    let publishes = mmio.publishes
    let (moved0, moved1) = try mmio.update { tx in
      (try tx.move(bar0, to: 0x2000), try tx.move(bar1, to: 0x1000))
    }
    #expect(mmio.publishes == publishes + 1)
    #expect(mmio.read(address: 0x1000, size: 4) == 1)
    #expect(mmio.read(address: 0x2000, size: 4) == 0)
    #expect(mmio.registrations == [moved1, moved0])
  }

  @Test("a chain of three moves, each onto the place the next one frees")
  func chain() throws {
    let mmio = IOBus()
    let bars = try (0..<3).map { index in
      try mmio.register(BARDevice(UInt64(index)), base: 0x1000 * UInt64(index + 1), length: 0x100)
    }
    let moved = try mmio.update { tx in
      try bars.indices.map { index in try tx.move(bars[index], to: 0x1000 * UInt64(index + 2)) }
    }
    #expect(mmio.read(address: 0x1000, size: 4) == nil)
    for index in 0..<3 {
      #expect(mmio.read(address: 0x1000 * UInt64(index + 2), size: 4) == UInt64(index))
    }
    #expect(mmio.registrations == moved)
  }

  @Test("a per-vCPU device sees each of 4 threads' own index")
  func perVCPU() throws {
    let mmio = IOBus()
    let page = try LocalControllerPage(vcpus: 4)
    _ = try mmio.register(page, base: 0xFEE0_0000, length: 0x1000)
    let writes = 1000
    onVCPUThreads(4) { vcpu in
      for _ in 0..<writes {
        let id = mmio.read(address: 0xFEE0_0020, size: 4, vcpu: vcpu)
        let rang = mmio.write(address: 0xFEE0_00B0, size: 4, value: 0, vcpu: vcpu)
        precondition(
          id == UInt64(vcpu) && rang != .unclaimed, "vCPU \(vcpu) saw \(String(describing: id))")
      }
    }
    #expect(page.doorbells.map { $0.drain() } == Array(repeating: UInt64(writes), count: 4))
    // Through the three-argument form it is vCPU 0; a hostile index is the device's to bound.
    #expect(mmio.read(address: 0xFEE0_0020, size: 4) == 0)
    #expect(mmio.write(address: 0xFEE0_00B0, size: 4, value: 0, vcpu: -1) == .unclaimed)
    #expect(mmio.write(address: 0xFEE0_00B0, size: 4, value: 0, vcpu: .max) == .unclaimed)
  }

  @Test("past maximumEntries an update is refused and changes nothing")
  func limit() throws {
    let mmio = IOBus(maximumEntries: 2)
    let first = try mmio.register(BARDevice(0), base: 0x1000, length: 0x100)
    let second = try mmio.register(BARDevice(1), base: 0x2000, length: 0x100)
    let publishes = mmio.publishes
    #expect(throws: IOBusError.tableFull(limit: 2)) {
      try mmio.register(BARDevice(2), base: 0x3000, length: 0x100)
    }
    #expect(throws: IOBusError.tableFull(limit: 2)) {
      try mmio.update { tx in
        try tx.unregister(first)
        _ = try tx.register(BARDevice(2), base: 0x3000, length: 0x100)
        _ = try tx.register(BARDevice(3), base: 0x4000, length: 0x100)
      }
    }
    #expect(mmio.registrations == [first, second] && mmio.publishes == publishes)
    #expect("\(IOBusError.tableFull(limit: 2))" == "tableFull(limit: 2)")
    // Judged on the end state: a replacement that passes the limit on the way fits.
    let third = try mmio.update { tx in
      let third = try tx.register(BARDevice(2), base: 0x3000, length: 0x100)
      try tx.unregister(first)
      return third
    }
    #expect(mmio.registrations == [second, third])
  }

  @Test("the reclamation backlog is visible while a grace period cannot end, and drains to zero")
  func backlog() throws {
    let mmio = IOBus()
    let bar = try mmio.register(BARDevice(0), base: 0x1000, length: 0x100)
    MembRCU.barrier()
    #expect(mmio.reclamationBacklog.isEmpty)
    // As from a device callback: the unregister cannot be reclaimed before this read-side
    // section ends.
    let seen = MembRCU.withReadSection {
      let unregistered = Result { () throws(IOBusError) in try mmio.unregister(bar) {} }
      return (unregistered, mmio.reclamationBacklog)
    }
    try seen.0.get()
    let backlog = seen.1
    #expect(backlog.retiredTables >= 1 && backlog.releasedDevices == 1 && backlog.bytes > 0)
    MembRCU.barrier()
    let drained = mmio.reclamationBacklog
    #expect(drained.isEmpty && drained.oldestAge == .zero && drained.retiredTables == 0)
  }
}
