import BusModel
import ConcurrentBus
import Glibc
import HostSupport
import RCU
import Synchronization
import Testing

extension RingTests {
  /// Serialized: the exhaustion test takes every slot, and the vCPU-lane test needs its
  /// vCPUs' slots free.
  @Suite("Producer slots", .serialized)
  struct SlotTests {
    @Test("4 vCPU threads: each write carries its vCPU, and each thread writes its vCPU's lane")
    func lanesByVCPU() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 1 << 12, wakeup: EventFD())
      // Indices no other thread of the test process writes as, so their slots are free.
      let vcpus = (700..<704).map { $0 }
      let slots = Mutex<[Int: Int]>([:])
      let threads = try vcpus.map { vcpu in
        try HostThread {
          for n in 0..<1000 as Range<UInt64> {
            _ = bus.write(address: 0x10, size: 8, value: UInt64(vcpu) << 32 | n, vcpu: vcpu)
          }
          let slot = RingProducer.current(vcpu: vcpu)?.slot ?? -1
          slots.withLock { $0[vcpu] = slot }
        }
      }
      for thread in threads { thread.join() }
      try bus.unregister(ring.registration)
      var entries: [RingEntry] = []
      ring.drain(into: &entries)
      let written = RingTests.writes(entries)
      #expect(written.count == 4000)
      for write in written {
        #expect(write.value >> 32 == UInt64(write.vcpu), "\(write)")
        #expect(
          write.producer.slot == write.vcpu, "vCPU \(write.vcpu) wrote lane \(write.producer)")
      }
      #expect(slots.withLock { $0 } == Dictionary(uniqueKeysWithValues: vcpus.map { ($0, $0) }))
    }

    @Test(
      "a thread's first write as a hostile vCPU index takes a slot in bounds and keeps the index")
    func hostileFirstIndex() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 16, wakeup: EventFD())
      let indices = [-1, .min, .max, 1 << 40, RingProducer.limit, 5000, -RingProducer.limit]
      for (n, vcpu) in indices.enumerated() {
        // A fresh thread each: the index reaches the slot claim, not only the lane's label.
        let thread = try HostThread {
          _ = bus.write(address: 0x10, size: 8, value: UInt64(n), vcpu: vcpu)
        }
        thread.join()
      }
      try bus.unregister(ring.registration)
      var entries: [RingEntry] = []
      ring.drain(into: &entries)
      let written = RingTests.writes(entries).sorted { $0.value < $1.value }
      #expect(written.map(\.vcpu) == indices)
      #expect(written.allSatisfy { (0..<RingProducer.limit).contains($0.producer.slot) })
    }

    @Test(
      "threads that exit give their slot back: more threads than slots, none declined, order kept")
    func slotsAreReused() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 1 << 13, wakeup: EventFD())
      // One after the other, more threads than there are slots: without reuse the last ones
      // would find none and their writes would be declined.
      let threadCount = RingProducer.limit + 500
      var slots: [Int] = []
      for thread in 0..<threadCount {
        let slot = Atomic<Int>(-1)
        let worker = try HostThread {
          for n in 0..<3 as Range<UInt64> {
            _ = bus.write(address: 0x10, size: 8, value: UInt64(thread) << 32 | n)
          }
          slot.store(RingProducer.current?.slot ?? -1, ordering: .relaxed)
        }
        worker.join()
        slots.append(slot.load(ordering: .relaxed))
      }
      try bus.unregister(ring.registration)
      var entries: [RingEntry] = []
      #expect(ring.drain(into: &entries) == .finished)
      var log = RingDeliveryLog()
      log.record(entries)
      #expect(ring.statistics.declined == 0)
      #expect(log.violations.isEmpty, "\(log.violations.prefix(5))")
      #expect(Set(slots).count <= 2, "slots were not reused: \(Set(slots).count) distinct")
      // Each slot's lane carries its successive holders' writes, in the order they held it.
      var expected: [RingProducer: [UInt64]] = [:]
      for (thread, slot) in slots.enumerated() {
        expected[RingProducer(slot: slot), default: []] += (0..<3).map {
          UInt64(thread) << 32 | $0
        }
      }
      for (producer, values) in expected {
        let problems = log.mismatches(of: producer, claimed: values)
        #expect(problems.isEmpty, "\(problems)")
      }
    }

    @Test("beyond the slot limit, writes are declined, counted and offered to the next entry")
    func exhaustion() throws {
      let bus = IOBus()
      let window = try bus.register(RecordingDevice("window"), base: 0, length: 0x100)
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 2, wakeup: EventFD())
      let extra = 76
      let threadCount = RingProducer.limit + extra
      let gate = try EventFD(options: .semaphore)
      let arrived = Atomic<Int>(0)
      let withoutSlot = Atomic<Int>(0)
      let toRing = Atomic<Int>(0)
      let toWindow = Atomic<Int>(0)
      let mismatched = Atomic<Int>(0)
      let slotLater = Atomic<Int>(0)
      var threads: [HostThread] = []
      for _ in 0..<threadCount {
        threads.append(
          try HostThread {
            let hasSlot = RingProducer.current != nil
            switch bus.write(address: 0x10, size: 8, value: 1) {
            case .claimed(ring.registration.id): toRing.add(1, ordering: .relaxed)
            case .claimed(window.id): toWindow.add(1, ordering: .relaxed)
            default: mismatched.add(1, ordering: .relaxed)
            }
            if !hasSlot { withoutSlot.add(1, ordering: .relaxed) }
            arrived.add(1, ordering: .releasing)
            _ = try? gate.read()
            // Slotless threads ask again once others have exited and given theirs back.
            if !hasSlot {
              let deadline = ContinuousClock.now + .seconds(20)
              while RingProducer.current == nil, ContinuousClock.now < deadline { usleep(1000) }
              if RingProducer.current != nil { slotLater.add(1, ordering: .relaxed) }
            }
          })
      }
      while arrived.load(ordering: .acquiring) < threadCount { usleep(1000) }
      let slotless = withoutSlot.load(ordering: .relaxed)
      // Other threads of this process (test workers) may hold a few slots too.
      #expect(slotless >= extra && slotless < extra + 64)
      #expect(mismatched.load(ordering: .relaxed) == 0)
      #expect(toWindow.load(ordering: .relaxed) == slotless)
      #expect(toRing.load(ordering: .relaxed) == threadCount - slotless)
      #expect(ring.statistics.declined == UInt64(slotless))
      try gate.signal(UInt64(threadCount))
      for thread in threads { thread.join() }
      #expect(slotLater.load(ordering: .relaxed) == slotless)
    }
  }
}
