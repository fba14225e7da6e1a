import ConcurrentBus
import RCU
import Testing

/// A registration belongs to the bus that issued it.
@Suite("Registrations belong to their bus")
struct RegistrationOwnershipTests {
  @Test("mmio.unregister(pioRegistration) is a typed error and removes nothing from either bus")
  func otherBusRegistrationIsRefused() throws {
    let pio = IOBus(space: .portIO)
    let mmio = IOBus()
    // The same id and kind on both buses: exactly the case that used to remove mmio's.
    let onPIO = try pio.register(RecordingDevice("pio"), base: 0x60, length: 4)
    let onMMIO = try mmio.register(RecordingDevice("mmio"), base: 0x60, length: 4)
    #expect(onPIO.id == onMMIO.id && onPIO.kind == onMMIO.kind)
    #expect(onPIO != onMMIO && onPIO.bus == pio.identity && onMMIO.bus == mmio.identity)

    #expect(throws: IOBusError.registrationFromAnotherBus(onPIO)) { try mmio.unregister(onPIO) }
    #expect(throws: IOBusError.registrationFromAnotherBus(onPIO)) {
      try mmio.unregister(onPIO) {}
    }
    #expect(throws: IOBusError.registrationFromAnotherBus(onPIO)) {
      try mmio.move(onPIO, to: 0x100)
    }
    #expect(mmio.write(address: 0x60, size: 1, value: 0) == .claimed(onMMIO.id))
    #expect(pio.write(address: 0x60, size: 1, value: 0) == .claimed(onPIO.id))
    #expect(mmio.device(of: onPIO) == nil)
    #expect(pio.device(of: onPIO) != nil)
  }

  @Test("a batch with another bus's registration fails as a whole")
  func otherBusRegistrationFailsTheBatch() throws {
    let first = IOBus()
    let second = IOBus()
    let foreign = try second.register(RecordingDevice("b"), base: 0, length: 1)
    let own = try first.register(RecordingDevice("a"), base: 0, length: 1)
    #expect(throws: IOBusError.registrationFromAnotherBus(foreign)) {
      try first.update { (tx: inout IOBusTransaction) throws(IOBusError) in
        try tx.unregister(own)
        try tx.unregister(foreign)
      }
    }
    #expect(first.registrations == [own])
  }

  @Test("a forged registration of a live number and another kind is unknown")
  func forgedRegistration() throws {
    let bus = IOBus()
    let live = try bus.register(RecordingDevice("a"), base: 0x1000, length: 0x100)
    let forged = Registration(
      id: live.id, kind: .range(base: 0x1000, length: 0x10), bus: bus.identity)
    #expect(throws: IOBusError.unknownRegistration(forged)) { try bus.unregister(forged) }
    #expect(bus.registrations == [live])
  }

  @Test("bus identities are never reused, even after a bus is gone")
  func identitiesAreUnique() {
    var seen = Set<BusIdentity>()
    for _ in 0..<1000 {
      let bus = IOBus()
      #expect(seen.insert(bus.identity).inserted)
    }
    MembRCU.barrier()
  }
}
