import ConcurrentBus
import RCU
import Synchronization
import Testing

/// Devices change buses from inside an access: what never waits for a grace period is
/// allowed there, what must wait is a typed error, and calling a bus from an update body is
/// a typed error.
@Suite("Changing the bus from a device callback")
struct DeviceUpdateTests {
  @Test("register, move and deferred unregister from a callback, on the same bus and another")
  func nonWaitingChangesAreAllowed() throws {
    let bus = IOBus()
    let other = IOBus()
    let added = Locked<(here: Registration?, there: Registration?)>((nil, nil))
    let released = Locked(0)
    let trigger = CallbackDevice { value in
      switch value {
      case 1:
        let here = try bus.register(RecordingDevice("here"), base: 0x100, length: 4)
        let there = try other.register(
          RecordingDevice("there"), address: 0x10, size: 0, match: .any)
        added.withLock { $0 = (here, there) }
      case 2:
        guard let here = added.value.here else { return }
        let moved = try bus.move(here, to: 0x200)
        added.withLock { $0.here = moved }
      default:
        guard case (let here?, let there?) = added.value else { return }
        try bus.unregister(here) { released.withLock { $0 += 1 } }
        try other.update(reclaim: .deferred({ released.withLock { $0 += 1 } })) { tx in
          try tx.unregister(there)
        }
      }
    }
    let door = try bus.register(trigger, base: 0, length: 1)
    #expect(bus.write(address: 0, size: 1, value: 1) == .claimed(door.id))
    let (here, there) = added.value
    #expect(bus.write(address: 0x100, size: 4, value: 0) == .claimed(try #require(here).id))
    #expect(other.write(address: 0x10, size: 3, value: 0) == .claimed(try #require(there).id))

    #expect(bus.write(address: 0, size: 1, value: 2) == .claimed(door.id))
    let moved = try #require(added.value.here)
    #expect(bus.write(address: 0x100, size: 4, value: 0) == .unclaimed)
    #expect(bus.write(address: 0x200, size: 4, value: 0) == .claimed(moved.id))

    #expect(bus.write(address: 0, size: 1, value: 3) == .claimed(door.id))
    #expect(bus.registrations == [door] && other.registrations.isEmpty)
    #expect(trigger.failures.isEmpty, "\(trigger.failures)")
    #expect(bus.gracePeriodWaits == 0 && other.gracePeriodWaits == 0)
    MembRCU.barrier()
    #expect(released.value == 2)
    try bus.unregister(door)  // The callback holds the buses: break the cycle.
  }

  @Test("a synchronous unregister or removing batch from a callback is refused and changes nothing")
  func waitingChangesAreRefused() throws {
    let bus = IOBus()
    let other = IOBus()
    let victim = try other.register(RecordingDevice("victim"), base: 0x100, length: 4)
    let trigger = CallbackDevice { value in
      switch value {
      case 1:
        try other.unregister(victim)
      case 2:
        try other.update { (tx: inout IOBusTransaction) throws(IOBusError) in
          _ = try tx.register(RecordingDevice("new"), base: 0x200, length: 4)
          try tx.unregister(victim)
        }
      default:
        // A synchronous batch that removes nothing never waits: allowed.
        try other.update { (tx: inout IOBusTransaction) throws(IOBusError) in
          _ = try tx.register(RecordingDevice("new"), base: 0x300, length: 4)
          _ = try tx.move(victim, to: 0x400)
        }
      }
    }
    let door = try bus.register(trigger, base: 0, length: 1)
    let before = other.registrations
    for value: UInt64 in [1, 2] {
      _ = bus.write(address: 0, size: 1, value: value)
      #expect(other.registrations == before, "value \(value) changed the bus")
    }
    #expect(
      trigger.failures == ["\(IOBusError.insideReadSection)", "\(IOBusError.insideReadSection)"])
    _ = bus.write(address: 0, size: 1, value: 3)
    #expect(trigger.failures.count == 2)
    #expect(
      other.registrations.map(\.kind) == [
        .range(base: 0x300, length: 4), .range(base: 0x400, length: 4),
      ])
    #expect(other.gracePeriodWaits == 0)
    try bus.unregister(door)
  }

  @Test("calling any bus from an update body is a typed error, not a deadlock or a trap")
  func callsFromUpdateBodies() throws {
    let bus = IOBus()
    let other = IOBus()
    let door = try bus.register(RecordingDevice("door"), base: 0, length: 1)
    let attempts: [(String, @Sendable () throws -> Void)] = [
      (
        "register on the same bus",
        { _ = try bus.register(RecordingDevice("x"), base: 8, length: 1) }
      ),
      ("unregister on the same bus", { try bus.unregister(door) }),
      ("nested update of the same bus", { try bus.update { _ in } }),
      (
        "register on another bus",
        { _ = try other.register(RecordingDevice("x"), base: 8, length: 1) }
      ),
      ("deferred unregister on another bus", { try other.unregister(door) {} }),
    ]
    for (name, attempt) in attempts {
      var thrown: (any Error)?
      do {
        try bus.update { tx in
          _ = try tx.register(RecordingDevice("batch"), base: 0x10, length: 1)
          try attempt()
        }
      } catch {
        thrown = error
      }
      #expect(thrown as? IOBusError == .insideUpdate, "\(name): \(String(describing: thrown))")
      #expect(bus.registrations == [door] && other.registrations.isEmpty, "\(name)")
    }
  }

  @Test("a device dispatched from an update body cannot change a bus either")
  func callbackInsideUpdateBody() throws {
    let bus = IOBus()
    let other = IOBus()
    let trigger = CallbackDevice { _ in
      _ = try other.register(RecordingDevice("x"), base: 0, length: 1)
    }
    let triggerRegistration = try other.register(trigger, base: 0x100, length: 1)
    try bus.update { _ in _ = other.write(address: 0x100, size: 1, value: 0) }
    #expect(trigger.failures == ["\(IOBusError.insideUpdate)"])
    #expect(other.registrations.count == 1)
    // The device's closure holds `other`, which holds the device: break the cycle.
    try other.unregister(triggerRegistration)
  }

  @Test("introspection works inside an update body and a device callback")
  func introspectionNeverLocks() throws {
    let bus = IOBus()
    let seen = Locked<[Int]>([])
    let first = try bus.register(
      CallbackDevice { _ in
        seen.withLock { $0.append(bus.registrations.count) }
      }, base: 0, length: 1)
    try bus.update { tx in
      _ = try tx.register(RecordingDevice("x"), base: 8, length: 1)
      // The published snapshot: the batch is not visible before it commits.
      #expect(bus.registrations == [first] && bus.device(of: first) != nil)
    }
    _ = bus.write(address: 0, size: 1, value: 0)
    #expect(seen.value == [2])
    try bus.unregister(first)
  }
}

/// A range device that runs `action` with each written value, inside the read-side section
/// of the dispatch, and records what the action threw.
final class CallbackDevice: IODevice {
  private let action: @Sendable (UInt64) throws -> Void
  private let thrown = Locked<[String]>([])

  init(_ action: @escaping @Sendable (UInt64) throws -> Void) { self.action = action }

  /// What the action threw, in order.
  var failures: [String] { thrown.value }

  func read(offset: UInt64, size: Int) -> UInt64? { nil }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    do {
      try action(value)
    } catch {
      thrown.withLock { $0.append("\(error)") }
    }
    return true
  }
}
