import ConcurrentBus
import Foundation
import Glibc
import RCU
import Synchronization
import Testing

/// KVM's ioeventfd semantics on the bus, with real eventfds.
@Suite("ioeventfd registrations")
struct IOEventFDTests {
  @Test("each access size signals exactly on matching writes", arguments: [1, 2, 4, 8])
  func sizes(size: Int) throws {
    let bus = IOBus()
    let eventFD = try EventFD()
    let value: UInt64 = size == 8 ? 0x0102_0304_0506_0708 : (1 << UInt64(size * 8)) - 2
    let registration = try bus.registerEventFD(
      eventFD, address: 0x40, size: size, match: .value(value))
    #expect(bus.write(address: 0x40, size: size, value: value ^ 1) == .unclaimed)
    #expect(eventFD.drain() == 0, "a value mismatch leaves the eventfd untouched")
    for other in [1, 2, 4, 8] where other != size {
      #expect(bus.write(address: 0x40, size: other, value: value) == .unclaimed)
    }
    for _ in 0..<3 {
      #expect(bus.write(address: 0x40, size: size, value: value) == .claimed(registration.id))
    }
    #expect(eventFD.drain() == 3)
    #expect((bus.device(of: registration) as? IOEventFD)?.hits == 3)
    try bus.unregister(registration)
    #expect(bus.write(address: 0x40, size: size, value: value) == .unclaimed)
    #expect(eventFD.drain() == 0)
  }

  @Test("size 0 takes every access size, any value")
  func anySize() throws {
    let bus = IOBus()
    let eventFD = try EventFD()
    let registration = try bus.registerEventFD(eventFD, address: 0x1000, size: 0, match: .any)
    for size in [1, 2, 4, 8] {
      #expect(bus.write(address: 0x1000, size: size, value: .max) == .claimed(registration.id))
    }
    #expect(bus.write(address: 0x1001, size: 1, value: 0) == .unclaimed)
    #expect(eventFD.drain() == 4)
    #expect(bus.statistics.unclaimedWrites == 1)
  }

  struct CollisionRow: CustomTestStringConvertible, Sendable {
    let existing: (size: Int, match: ValueMatch)
    let new: (address: UInt64, size: Int, match: ValueMatch)
    let collides: Bool
    var testDescription: String {
      "existing size \(existing.size) \(existing.match) vs new 0x\(String(new.address, radix: 16)) size \(new.size) \(new.match): \(collides ? "collides" : "coexists")"
    }
  }

  /// KVM's rule: same address and (either size 0, or equal sizes and (either `.any` or
  /// equal values)).
  static let collisionMatrix: [CollisionRow] = [
    .init(existing: (4, .value(1)), new: (0x10, 4, .value(1)), collides: true),
    .init(existing: (4, .value(1)), new: (0x10, 4, .value(2)), collides: false),
    .init(existing: (4, .value(1)), new: (0x10, 4, .any), collides: true),
    .init(existing: (4, .any), new: (0x10, 4, .value(2)), collides: true),
    .init(existing: (4, .any), new: (0x10, 4, .any), collides: true),
    .init(existing: (4, .value(1)), new: (0x10, 2, .value(1)), collides: false),
    .init(existing: (4, .any), new: (0x10, 2, .any), collides: false),
    .init(existing: (4, .any), new: (0x10, 8, .value(1)), collides: false),
    .init(existing: (4, .value(1)), new: (0x10, 0, .any), collides: true),
    .init(existing: (0, .any), new: (0x10, 4, .value(1)), collides: true),
    .init(existing: (0, .any), new: (0x10, 1, .any), collides: true),
    .init(existing: (0, .any), new: (0x10, 0, .any), collides: true),
    .init(existing: (1, .value(0xFF)), new: (0x10, 1, .value(0xFF)), collides: true),
    .init(existing: (8, .value(.max)), new: (0x10, 8, .value(.max - 1)), collides: false),
    .init(existing: (4, .any), new: (0x11, 4, .any), collides: false),
    .init(existing: (0, .any), new: (0x0F, 0, .any), collides: false),
  ]

  @Test("the collision matrix, row by row", arguments: collisionMatrix)
  func collisions(row: CollisionRow) throws {
    let bus = IOBus()
    let existing = try bus.registerEventFD(
      try EventFD(), address: 0x10, size: row.existing.size, match: row.existing.match)
    let before = bus.registrations
    do {
      _ = try bus.registerEventFD(
        try EventFD(), address: row.new.address, size: row.new.size, match: row.new.match)
      #expect(!row.collides, "registered, but KVM would refuse it")
    } catch let error as IOBusError {
      #expect(row.collides, "refused: \(error)")
      let new = RegistrationKind.valueMatch(
        address: row.new.address, size: row.new.size, match: row.new.match)
      #expect(error == .matchesCollide(.registered(existing), .new(new)))
      #expect(bus.registrations == before, "a refused registration changes nothing")
    }
  }

  @Test("bad ioeventfd parameters are typed errors")
  func badParameters() throws {
    let bus = IOBus()
    let eventFD = try EventFD()
    #expect(throws: IOBusError.valueMatchNeedsSize) {
      try bus.registerEventFD(eventFD, address: 0, size: 0, match: .value(0))
    }
    #expect(throws: IOBusError.invalidSize(3)) {
      try bus.registerEventFD(eventFD, address: 0, size: 3, match: .any)
    }
    #expect(throws: IOBusError.rangeWrapsAround(base: .max - 2, length: 4)) {
      try bus.registerEventFD(eventFD, address: .max - 2, size: 4, match: .any)
    }
    #expect(bus.registrations.isEmpty)
  }

  @Test("eventfds go before the range device that covers them; misses fall through")
  func precedenceAndFallThrough() throws {
    let bus = IOBus()
    let model = RecordingDevice("virtio-mmio model")
    let window = try bus.register(model, base: 0x1000_0000, length: 0x200)
    let notifiers = try (0..<4).map { queue in
      let eventFD = try EventFD()
      return (
        eventFD,
        try bus.registerEventFD(
          eventFD, address: 0x1000_0050, size: 4, match: .value(UInt64(queue)))
      )
    }
    #expect(bus.write(address: 0x1000_0050, size: 4, value: 2) == .claimed(notifiers[2].1.id))
    #expect(
      bus.write(address: 0x1000_0050, size: 4, value: 9) == .claimed(window.id), "falls through")
    #expect(bus.write(address: 0x1000_0054, size: 4, value: 2) == .claimed(window.id))
    #expect(notifiers.map { $0.0.drain() } == [0, 0, 1, 0])
    #expect(model.writeCount == 2)
  }

  @Test("a full counter is a counted failed signal, still claimed, never a crash")
  func failedSignal() throws {
    let bus = IOBus()
    let eventFD = try EventFD()
    try eventFD.signal(EventFD.maxCounter)
    let registration = try bus.registerEventFD(eventFD, address: 0x8, size: 1, match: .any)
    #expect(bus.write(address: 0x8, size: 1, value: 1) == .claimed(registration.id))
    #expect(bus.eventFDStatistics.failedSignals == 1)
    #expect((bus.device(of: registration) as? IOEventFD)?.failedSignals == 1)
    #expect(eventFD.drain() == EventFD.maxCounter)
    #expect(bus.write(address: 0x8, size: 1, value: 1) == .claimed(registration.id))
    #expect(eventFD.drain() == 1)
  }

  @Test("64 queue notifiers register in one publish and unregister with one grace period")
  func batchOf64() throws {
    let bus = IOBus()
    let eventFDs = try (0..<64).map { _ in try EventFD() }
    let publishesBefore = bus.publishes
    let registrations = try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try eventFDs.enumerated().map { queue, eventFD throws(IOBusError) in
        try tx.registerEventFD(eventFD, address: 0xFE00_3000, size: 2, match: .value(UInt64(queue)))
      }
    }
    #expect(bus.publishes == publishesBefore + 1)
    #expect(bus.gracePeriodWaits == 0, "registering never waits")
    for queue in 0..<64 {
      #expect(
        bus.write(address: 0xFE00_3000, size: 2, value: UInt64(queue))
          == .claimed(registrations[queue].id))
    }
    #expect(eventFDs.allSatisfy { $0.drain() == 1 })
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for registration in registrations { try tx.unregister(registration) }
    }
    #expect(bus.publishes == publishesBefore + 2)
    #expect(bus.gracePeriodWaits == 1)
  }

  @Test("a parked reader holds back unregister, and the eventfd stays open until it leaves")
  func parkedReaderKeepsEventFDOpen() throws {
    let bus = IOBus()
    let parking = ParkingDevice()
    _ = try bus.register(parking, base: 0x100, length: 4)
    var eventFD: EventFD? = try EventFD()
    let descriptor = eventFD!.descriptor
    try eventFD!.signal(EventFDIdentity.marker)
    let identity = try #require(EventFDIdentity(descriptor))
    let registration = try bus.registerEventFD(eventFD!, address: 0x200, size: 4, match: .any)
    eventFD = nil  // The bus now holds the only reference.

    let vcpu = Thread { _ = bus.write(address: 0x100, size: 4, value: 1) }
    vcpu.start()
    parking.entered.wait()
    let returned = Atomic<Bool>(false)
    let unregistered = DispatchSemaphore(value: 0)
    Thread {
      try? bus.unregister(registration)
      returned.store(true, ordering: .releasing)
      unregistered.signal()
    }.start()
    #expect(unregistered.wait(timeout: .now() + .milliseconds(200)) == .timedOut)
    let returnedWhileInside = returned.load(ordering: .acquiring)
    #expect(!returnedWhileInside, "unregister returned while a reader was inside")
    #expect(EventFDIdentity(descriptor) == identity, "the eventfd closed while a reader was inside")
    parking.leave.signal()
    parking.left.wait()
    unregistered.wait()
    let closed = fcntl(descriptor, F_GETFD) == -1 && errno == EBADF
    #expect(closed || EventFDIdentity(descriptor) != identity, "closed once unregister returned")
  }

  @Test("drained counts equal claims exactly, per registration, while others churn")
  func exactCountsUnderChurn() throws {
    let bus = IOBus()
    let stable = try (0..<8).map { index in
      let eventFD = try EventFD()
      return (
        eventFD,
        try bus.registerEventFD(
          eventFD, address: 0x5000 + UInt64(index / 4) * 8, size: 4,
          match: .value(UInt64(index % 4)))
      )
    }
    let vcpus = 2
    let claims = Mutex([Int](repeating: 0, count: 8))
    let finished = Atomic<Int>(0)
    let churnRounds = Atomic<Int>(0)
    let churnClaimsOutsideRegistration = Atomic<Int>(0)
    onThreads(vcpus + 1) { index in
      if index == vcpus {
        while finished.load(ordering: .acquiring) < vcpus {
          do {
            let churned = try EventFD()
            let registration = try bus.registerEventFD(
              churned, address: 0x5000, size: 4, match: .value(7))
            try bus.unregister(registration)
            // After unregister returned, nothing may signal it any more.
            _ = churned.drain()
            if bus.write(address: 0x5000, size: 4, value: 7) != .unclaimed || churned.drain() != 0 {
              churnClaimsOutsideRegistration.add(1, ordering: .relaxed)
            }
            churnRounds.add(1, ordering: .relaxed)
          } catch {
            Issue.record("churn: \(error)")
            return
          }
        }
        return
      }
      var local = [Int](repeating: 0, count: 8)
      for i in 0..<60_000 {
        let target = (i &* 7 &+ index) % 8
        let address = 0x5000 + UInt64(target / 4) * 8
        if case .claimed(let id) = bus.write(address: address, size: 4, value: UInt64(target % 4)) {
          if id == stable[target].1.id { local[target] += 1 }
        }
        _ = bus.write(address: 0x5000, size: 4, value: 7)
        _ = bus.write(address: address, size: 4, value: 5)
      }
      claims.withLock { total in for target in 0..<8 { total[target] += local[target] } }
      finished.add(1, ordering: .releasing)
    }
    for target in 0..<8 {
      let claimed = claims.withLock { $0[target] }
      #expect(claimed == 60_000 * vcpus / 8, "every matching write was claimed by its registration")
      #expect(Int(stable[target].0.drain()) == claimed, "registration \(target): drained == claims")
    }
    #expect(churnClaimsOutsideRegistration.load(ordering: .relaxed) == 0)
    #expect(churnRounds.load(ordering: .relaxed) > 0)
    #expect(bus.eventFDStatistics.failedSignals == 0)
  }
}
