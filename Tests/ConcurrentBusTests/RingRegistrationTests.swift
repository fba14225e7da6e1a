import ConcurrentBus
import RCU
import Testing

extension RingTests {
  @Suite("Ring registrations")
  struct RegistrationTests {
    /// Drains what is there now.
    func drain(_ ring: ValueRing) -> (entries: [RingEntry], state: ValueRing.DrainState) {
      var entries: [RingEntry] = []
      let state = ring.drain(into: &entries)
      return (entries, state)
    }

    func values(_ entries: [RingEntry]) -> [UInt64] {
      entries.compactMap { if case .write(let write) = $0 { write.value } else { nil } }
    }

    @Test("an exact-address ring captures matching writes with their size and value")
    func exactAddress() throws {
      let bus = IOBus()
      let window = try bus.register(RecordingDevice("window"), base: 0x1000, length: 0x100)
      let ring = try bus.registerRing(
        address: 0x1010, size: 4, match: .any, capacity: 16, wakeup: EventFD())
      #expect(
        bus.write(address: 0x1010, size: 4, value: 0x1_2345_6789) == .claimed(ring.registration.id))
      #expect(bus.write(address: 0x1010, size: 2, value: 5) == .claimed(window.id))  // size differs
      // The address differs:
      #expect(bus.write(address: 0x1014, size: 4, value: 6) == .claimed(window.id))
      #expect(bus.read(address: 0x1010, size: 4) == 0xAB)  // reads go to the range
      let (entries, state) = drain(ring)
      #expect(state == .open)
      let producer = try #require(RingProducer.current)
      #expect(
        entries == [
          .write(RingWrite(producer: producer, sequence: 0, offset: 0, size: 4, value: 0x2345_6789))
        ])
    }

    @Test("a value-matched ring takes only its value; an eventfd at the same address its own")
    func valueMatch() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x50, size: 4, match: .value(1), capacity: 16, wakeup: EventFD())
      let eventFD = try EventFD()
      let notifier = try bus.registerEventFD(eventFD, address: 0x50, size: 4, match: .value(2))
      #expect(bus.write(address: 0x50, size: 4, value: 1) == .claimed(ring.registration.id))
      #expect(bus.write(address: 0x50, size: 4, value: 2) == .claimed(notifier.id))
      #expect(bus.write(address: 0x50, size: 4, value: 3) == .unclaimed)
      #expect(values(drain(ring).entries) == [1])
      #expect(eventFD.drain() == 1)
    }

    @Test("a range ring records offsets from its base and leaves reads unclaimed")
    func range() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(base: 0x3F8, length: 8, capacity: 16, wakeup: EventFD())
      #expect(bus.write(address: 0x3F8, size: 1, value: 0x41) == .claimed(ring.registration.id))
      #expect(bus.write(address: 0x3FC, size: 4, value: 0xFFFF_FFFF_0000_0042) != .unclaimed)
      #expect(bus.write(address: 0x3F9, size: 3, value: 0xAABB_CCDD) != .unclaimed)
      #expect(bus.write(address: 0x3FE, size: 4, value: 1) == .unclaimed)  // runs past the end
      #expect(bus.read(address: 0x3F8, size: 1) == nil)
      let writes = drain(ring).entries.compactMap { entry -> RingWrite? in
        if case .write(let write) = entry { write } else { nil }
      }
      #expect(writes.map(\.offset) == [0, 4, 1])
      #expect(writes.map(\.size) == [1, 4, 3])
      #expect(writes.map(\.value) == [0x41, 0x42, 0xBB_CCDD])
      #expect(writes.map(\.sequence) == [0, 1, 2])
    }

    @Test("a moved ring keeps capturing at its new place, and is sealed once the bus lets go")
    func moved() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(base: 0x100, length: 0x10, capacity: 16, wakeup: EventFD())
      _ = bus.write(address: 0x104, size: 4, value: 1)
      let moved = try bus.move(ring.registration, to: 0x200)
      #expect(bus.write(address: 0x104, size: 4, value: 2) == .unclaimed)
      #expect(bus.write(address: 0x208, size: 4, value: 3) == .claimed(moved.id))
      #expect(
        drain(ring).entries.map { entry -> UInt64 in
          if case .write(let write) = entry { write.offset << 8 | write.value } else { 0 }
        } == [0x401, 0x803])
      try bus.unregister(moved)
      #expect(bus.write(address: 0x208, size: 4, value: 4) == .unclaimed)
      // The handle the move replaced still refers to the device until its own deferred
      // release runs: the seal comes then, after the grace periods both needed.
      MembRCU.barrier()
      #expect(drain(ring) == ([], .finished))
    }

    @Test("colliding or overlapping ring registrations are typed errors that change nothing")
    func collisions() throws {
      let bus = IOBus()
      let eventFD = try EventFD()
      let notifier = try bus.registerEventFD(eventFD, address: 0x50, size: 4, match: .any)
      let range = try bus.register(RecordingDevice("range"), base: 0x100, length: 0x10)
      let before = bus.registrations
      #expect(
        throws: IOBusError.matchesCollide(
          .registered(notifier), .new(.valueMatch(address: 0x50, size: 0, match: .any)))
      ) {
        try bus.registerRing(address: 0x50, size: 0, match: .any, wakeup: eventFD)
      }
      #expect(
        throws: IOBusError.rangesOverlap(
          .registered(range), .new(.range(base: 0x108, length: 0x10)))
      ) {
        try bus.registerRing(base: 0x108, length: 0x10, wakeup: eventFD)
      }
      #expect(throws: IOBusError.valueMatchNeedsSize) {
        try bus.registerRing(address: 0x60, size: 0, match: .value(1), wakeup: eventFD)
      }
      #expect(bus.registrations == before)
    }

    @Test(
      "capacity is rounded up to a power of two within 2...65536",
      arguments: [
        (0, 2), (1, 2), (3, 4), (100, 128), (256, 256), (1 << 20, 1 << 16),
      ])
    func capacity(requested: Int, actual: Int) throws {
      let ring = try IOBus().registerRing(
        address: 0, size: 1, match: .any, capacity: requested, wakeup: EventFD())
      #expect(ring.capacity == actual)
    }

    @Test("after unregister returns the ring delivers what was left, then is finished")
    func unregisterSeals() throws {
      let bus = IOBus()
      let eventFD = try EventFD()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 16, wakeup: eventFD)
      _ = bus.write(address: 0x10, size: 8, value: 1)
      #expect(values(drain(ring).entries) == [1])
      _ = bus.write(address: 0x10, size: 8, value: 2)
      _ = bus.write(address: 0x10, size: 8, value: 3)
      #expect(ring.statistics.recorded == 3)
      try bus.unregister(ring.registration)
      #expect(bus.write(address: 0x10, size: 8, value: 4) == .unclaimed)
      let (entries, state) = drain(ring)
      #expect(values(entries) == [2, 3])
      #expect(state == .finished)
      #expect(ring.isFinished)
      #expect(drain(ring) == ([], .finished))
      #expect(eventFD.drain() >= 1)  // the seal woke the consumer
    }

    @Test("a deferred unregister seals the ring before its completion runs")
    func deferredUnregisterSeals() async throws {
      let bus = IOBus()
      let ring = try bus.registerRing(address: 0x10, size: 8, match: .any, wakeup: EventFD())
      _ = bus.write(address: 0x10, size: 8, value: 7)
      let state = await withCheckedContinuation { continuation in
        do {
          try bus.unregister(ring.registration) {
            var entries: [RingEntry] = []
            continuation.resume(returning: (ring.drain(into: &entries), entries.count))
          }
        } catch {
          continuation.resume(returning: (.open, -1))
        }
      }
      #expect(state == (.finished, 1))
    }

    @Test("a ring from a failed batch is finished and the bus unchanged")
    func failedBatch() throws {
      let bus = IOBus()
      let existing = try bus.register(RecordingDevice("range"), base: 0x100, length: 0x10)
      let eventFD = try EventFD()
      var leaked: ValueRing?
      #expect(
        throws: IOBusError.rangesOverlap(
          .registered(existing), .new(.range(base: 0x108, length: 4)))
      ) {
        try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
          leaked = try tx.registerRing(address: 0x50, size: 4, match: .any, wakeup: eventFD)
          _ = try tx.register(RecordingDevice("clash"), base: 0x108, length: 4)
        }
      }
      #expect(bus.registrations == [existing])
      #expect(bus.write(address: 0x50, size: 4, value: 1) == .unclaimed)
      let ring = try #require(leaked)
      #expect(drain(ring) == ([], .finished))
    }

    @Test("statistics count records and wakeups; one wakeup for writes into a non-empty lane")
    func statistics() throws {
      let bus = IOBus()
      let eventFD = try EventFD()
      let ring = try bus.registerRing(address: 0, size: 1, match: .any, wakeup: eventFD)
      for value in 0..<5 as Range<UInt64> { _ = bus.write(address: 0, size: 1, value: value) }
      #expect(
        ring.statistics
          == ValueRingStatistics(recorded: 5, lost: 0, wakeups: 1, failedWakeups: 0, declined: 0))
      #expect(eventFD.drain() == 1)
      #expect(values(drain(ring).entries) == [0, 1, 2, 3, 4])
      _ = bus.write(address: 0, size: 1, value: 5)
      #expect(ring.statistics.wakeups == 2)
      #expect(ring.producers == [try #require(RingProducer.current)])
    }
  }
}
