// This module imports ConcurrentBus and nothing else of the package (its target depends on
// ConcurrentBus alone): it compiles only if the umbrella module is enough for what a VMM
// writes first.
import ConcurrentBus
import Testing

/// A VMM's machine: buses as stored properties, flavor spelled out, with one import.
final class Machine: Sendable {
  let pio: IOBus<MembRCU>
  let mmio: IOBus<MembRCU>
  let bulletproof: IOBus<BulletproofRCU>

  init() {
    pio = IOBus(space: .portIO)
    mmio = IOBus()
    bulletproof = IOBus(flavor: BulletproofRCU.self)
  }
}

final class Register: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { 0 }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

@Suite("import ConcurrentBus alone")
struct UmbrellaImportTests {
  @Test("buses are stored properties; batches read like Swift, nested closures included")
  func readsLikeSwift() throws {
    let machine = Machine()
    let window = try machine.mmio.update { tx in
      try tx.register(Register(), base: 0x1000, length: 0x100)
    }
    let doorbells = try machine.mmio.update { tx in
      try (0..<3).map { queue in
        try tx.register(Register(), address: 0x1050, size: 4, match: .value(UInt64(queue)))
      }
    }
    #expect(machine.mmio.registrations == doorbells + [window])
    _ = try machine.pio.register(Register(), base: 0x60, length: 1)
    _ = try machine.bulletproof.register(Register(), base: 0, length: 1)
  }

  @Test("a body's own error comes back as thrown, and the batch changes nothing")
  func ownErrors() throws {
    struct Refused: Error {}
    let bus = IOBus()
    #expect(throws: Refused.self) {
      try bus.update { tx in
        _ = try tx.register(Register(), base: 0, length: 1)
        throw Refused()
      }
    }
    #expect(bus.registrations.isEmpty)
  }

  @Test("eventfds are Hashable by identity: poller results map straight back")
  func eventFDsAreKeys() throws {
    let poller = try EventPoller()
    let queues = try (0..<3).map { _ in try EventFD() }
    let queueOf = Dictionary(uniqueKeysWithValues: queues.enumerated().map { ($1, $0) })
    for eventFD in queues { try poller.add(eventFD) }
    try queues[1].signal(2)
    let ready = try poller.wait(timeout: .seconds(5))
    #expect(ready.map { queueOf[$0.eventFD] } == [1] && ready.map(\.count) == [2])
    #expect(queues[0] != queues[1] && queues[0] == queues[0])
  }

  @Test("the non-blocking unregister has its own name in async code")
  func asyncUnregister() async throws {
    let bus = IOBus()
    let registration = try bus.register(Register(), base: 0, length: 1)
    try await bus.unregisterAndAwaitRelease(registration)
    #expect(bus.registrations.isEmpty)
  }
}
