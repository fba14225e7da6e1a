// The listings of ChangingTheBusFromADevice.md, in the article's order, and checks of the
// article's table of what a device callback may do.

import ConcurrentBus
import Synchronization
import Testing

// listing: bar-register
/// A PCI function's memory BAR, reduced to one 32-bit register on the port-I/O bus: the
/// guest writes a new base, and the device moves its MMIO window there, inside the write.
final class BARRegister: IODevice {
  let mmio: IOBus<MembRCU>
  let window: Mutex<Registration>

  init(mmio: IOBus<MembRCU>, window: Registration) {
    self.mmio = mmio
    self.window = Mutex(window)
  }

  func read(offset: UInt64, size: Int) -> UInt64? {
    guard case .range(let base, _) = window.withLock({ $0.kind }) else { return nil }
    return base
  }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    window.withLock { window in
      // One publish: every access finds the window at the old base or at the new one.
      // Never waits for a grace period, so it is allowed here, inside the guest's write.
      do {
        window = try mmio.move(window, to: value & ~0xFFF)
      } catch {
        print("BAR not moved: \(error)")  // onto another device's range, say: it stays
      }
    }
    return true
  }
}
// end listing

// listing: virtio-transport
/// A virtio-mmio transport: the guest kicks queue n by writing n to QueueNotify (0x50), turns
/// the device on by writing DRIVER_OK to Status (0x70), and resets it by writing 0 there.
final class VirtioTransport: IODevice {
  static let driverOK: UInt64 = 4
  let mmio: IOBus<MembRCU>
  let base: UInt64
  let queues: [EventFD]
  let notifiers = Mutex<[Registration]>([])

  init(mmio: IOBus<MembRCU>, base: UInt64, queues: [EventFD]) {
    self.mmio = mmio
    self.base = base
    self.queues = queues
  }

  func read(offset: UInt64, size: Int) -> UInt64? { 0 }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    guard offset == 0x70 else { return true }  // a kick with notifiers off: serve it here
    notifiers.withLock { live in
      do {
        if value & Self.driverOK != 0, live.isEmpty {
          // DRIVER_OK: every queue's notifier, in one publish.
          live = try mmio.update { tx in
            try queues.indices.map { queue in
              try tx.registerEventFD(
                queues[queue], address: base + 0x50, size: 4, match: .value(UInt64(queue)))
            }
          }
        } else if value == 0, !live.isEmpty {
          // Reset. A synchronous batch would throw .insideReadSection here; a deferred one
          // returns at once and lets go of the eventfds after a grace period.
          try mmio.update(reclaim: .deferred({})) { tx in
            for notifier in live { try tx.unregister(notifier) }
          }
          live = []
        }
      } catch {
        print("virtio: \(error)")
      }
    }
    return true
  }
}
// end listing

// listing: eject-button
/// A hot-unplug button: the guest writes 1 to remove the device registered as `target`.
final class EjectButton: IODevice {
  let bus: IOBus<MembRCU>
  let target: Registration
  let released = Atomic<Bool>(false)

  init(bus: IOBus<MembRCU>, target: Registration) {
    self.bus = bus
    self.target = target
  }

  func read(offset: UInt64, size: Int) -> UInt64? { 0 }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    guard value == 1 else { return true }
    do {
      // `try bus.unregister(target)` would throw .insideReadSection: it has to wait for a
      // grace period, which cannot end while this callback runs. This form does not wait.
      try bus.unregister(target) { self.released.store(true, ordering: .releasing) }
    } catch {
      print("eject: \(error)")  // .unknownRegistration when pressed twice
    }
    return true
  }
}
// end listing

/// Runs `attempt` from inside a device callback on `bus` and keeps the error it threw.
final class CallbackProbe: IODevice {
  let attempt: @Sendable () throws -> Void
  let outcome = Mutex<(any Error)?>(nil)

  init(_ attempt: @escaping @Sendable () throws -> Void) { self.attempt = attempt }

  func read(offset: UInt64, size: Int) -> UInt64? { 0 }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    do { try attempt() } catch { outcome.withLock { $0 = error } }
    return true
  }

  /// Registers the probe at `address` on `bus`, writes there, and returns what it threw.
  static func run(
    on bus: IOBus<MembRCU>, _ attempt: @escaping @Sendable () throws -> Void
  ) throws -> (any Error)? {
    let probe = CallbackProbe(attempt)
    let registration = try bus.register(probe, base: 0xF000_0000, length: 1)
    _ = bus.write(address: 0xF000_0000, size: 1, value: 0)
    try bus.unregister(registration)
    return probe.outcome.withLock { $0 }
  }
}

@Suite("Article: Changing the bus from a device")
struct ChangingTheBusTests {
  @Test("a BAR register moves its window on another bus, inside the guest's write")
  func barMove() throws {
    // listing: bar-move
    let pio = IOBus(space: .portIO)
    let mmio = IOBus()
    let window = try mmio.register(SerialPort(), base: 0xC000_0000, length: 0x1000)
    _ = try pio.register(BARRegister(mmio: mmio, window: window), base: 0xCFC, length: 4)

    // The guest programs the BAR: its port write moves the window on the MMIO bus.
    _ = pio.write(address: 0xCFC, size: 4, value: 0xD000_0000)
    let base = pio.read(address: 0xCFC, size: 4)  // 0xD000_0000
    let atOldBase = mmio.read(address: 0xC000_0005, size: 1)  // nil
    let atNewBase = mmio.read(address: 0xD000_0005, size: 1)  // 0x60
    // end listing
    #expect(base == 0xD000_0000 && atOldBase == nil && atNewBase == 0x60)
    let moved = try #require(mmio.registrations.first)
    #expect(moved.kind == .range(base: 0xD000_0000, length: 0x1000) && moved.id != window.id)
    #expect(mmio.gracePeriodWaits == 0 && mmio.publishes == 2, "one publish for the move")
    #expect(throws: IOBusError.unknownRegistration(window)) { try mmio.unregister(window) }
  }

  @Test("a virtio transport turns its notifiers on and off from its own status writes")
  func virtio() throws {
    // listing: virtio-driver-ok
    let mmio = IOBus()
    let queues = [try EventFD(), try EventFD()]
    let transport = VirtioTransport(mmio: mmio, base: 0xFEB0_0000, queues: queues)
    let window = try mmio.register(transport, base: 0xFEB0_0000, length: 0x200)

    _ = mmio.write(address: 0xFEB0_0070, size: 4, value: VirtioTransport.driverOK)
    let kick = mmio.write(address: 0xFEB0_0050, size: 4, value: 1)  // queue 1's notifier
    _ = mmio.write(address: 0xFEB0_0070, size: 4, value: 0)  // reset: notifiers off
    let afterReset = mmio.write(address: 0xFEB0_0050, size: 4, value: 1)  // .claimed(window.id)

    // The transport holds the bus and the bus holds the transport: unregistering it
    // breaks the cycle.
    try mmio.unregister(window)
    // end listing
    #expect(kick != .claimed(window.id) && kick != .unclaimed)
    #expect(queues[1].drain() == 1 && queues[0].drain() == 0)
    #expect(afterReset == .claimed(window.id))
    #expect(mmio.registrations.isEmpty && mmio.gracePeriodWaits == 1)
  }

  @Test("an eject button unregisters another device from its callback, without waiting")
  func eject() throws {
    let mmio = IOBus()
    let target = try mmio.register(SerialPort(), base: 0x1000, length: 8)
    let button = EjectButton(bus: mmio, target: target)
    let buttonRegistration = try mmio.register(button, base: 0x2000, length: 1)
    #expect(mmio.write(address: 0x2000, size: 1, value: 1) == .claimed(buttonRegistration.id))
    #expect(mmio.read(address: 0x1000, size: 1) == nil, "unpublished when the write returns")
    MembRCU.barrier()
    let released = button.released.load(ordering: .acquiring)
    #expect(released)
    try mmio.unregister(buttonRegistration)
  }

  @Test("inside a callback: synchronous removals throw insideReadSection and change nothing")
  func insideReadSection() throws {
    let mmio = IOBus()
    let pio = IOBus(space: .portIO)
    let target = try pio.register(SerialPort(), base: 0x3F8, length: 8)
    let unregister = try CallbackProbe.run(on: mmio) { try pio.unregister(target) }
    #expect((unregister as? IOBusError) == .insideReadSection)
    let batch = try CallbackProbe.run(on: mmio) {
      try pio.update { tx in try tx.unregister(target) }
    }
    #expect((batch as? IOBusError) == .insideReadSection)
    #expect(pio.registrations == [target])
    // Registering, moving, and synchronous batches that remove nothing go through.
    let allowed = try CallbackProbe.run(on: mmio) {
      let extra = try pio.register(SerialPort(), base: 0x2F8, length: 8)
      let moved = try pio.move(extra, to: 0x3E8)
      try pio.update { tx in _ = try tx.move(moved, to: 0x2E8) }
      try pio.unregister(target, whenReleased: {})
    }
    #expect(allowed == nil)
    #expect(pio.registrations.map(\.kind) == [.range(base: 0x2E8, length: 8)])
  }

  @Test("calling a bus from inside an update body throws insideUpdate; the batch changes nothing")
  func insideUpdate() throws {
    let pio = IOBus(space: .portIO)
    let mmio = IOBus()
    // listing: inside-update
    do {
      try mmio.update { tx in
        _ = try tx.register(SerialPort(), base: 0x1000_0000, length: 8)
        _ = try pio.register(SerialPort(), base: 0x2F8, length: 8)  // throws .insideUpdate
      }
    } catch {
      print(error)  // insideUpdate: nothing of the batch was applied
    }
    // end listing
    #expect(mmio.registrations.isEmpty && pio.registrations.isEmpty)
    #expect(throws: IOBusError.insideUpdate) {
      try mmio.update { _ in _ = try mmio.register(SerialPort(), base: 0, length: 1) }
    }
    // Introspection reads the published snapshot, without the lock: it works in a body.
    let seen = try mmio.update { _ in mmio.registrations.count }
    #expect(seen == 0)
  }
}
