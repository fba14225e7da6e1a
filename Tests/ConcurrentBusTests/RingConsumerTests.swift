import BusModel
import ConcurrentBus
import HostSupport
import RCU
import Synchronization
import Testing

extension RingTests {
  @Suite("Ring consumers")
  struct ConsumerTests {
    @Test(
      "the async sequence delivers every producer's writes in order and ends at unregister",
      .timeLimit(.minutes(1)))
    func asyncSequence() async throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 1 << 16, wakeup: EventFD())
      let entries = try ring.entries()
      let consumer = Task {
        var log = RingDeliveryLog()
        for await entry in entries { log.record(entry) }
        return log
      }
      let logs = produce(on: bus, at: 0x10, threads: 2, writes: 20_000, ring: ring)
      try bus.unregister(ring.registration)
      let log = await consumer.value
      #expect(log.violations.isEmpty, "\(log.violations.prefix(5))")
      #expect(log.lost == ring.statistics.lost)
      for producerLog in logs {
        let producer = try #require(producerLog.producer)
        #expect(log.mismatches(of: producer, claimed: producerLog.claimed).isEmpty)
      }
      #expect(ring.isFinished)
    }

    @Test("cancelling the consuming task ends the sequence", .timeLimit(.minutes(1)))
    func cancellation() async throws {
      let bus = IOBus()
      let ring = try bus.registerRing(address: 0x10, size: 8, match: .any, wakeup: EventFD())
      _ = bus.write(address: 0x10, size: 8, value: 1)
      let entries = try ring.entries()
      let (started, starter) = AsyncStream.makeStream(of: Void.self)
      let consumer = Task {
        var count = 0
        for await _ in entries {
          count += 1
          starter.yield()
        }
        return count
      }
      for await _ in started { break }
      consumer.cancel()
      #expect(await consumer.value == 1)
      #expect(!ring.isFinished)
    }

    @Test("one poller serves several rings; each drains in its producers' order")
    func pollerOverSeveralRings() throws {
      let bus = IOBus()
      let rings = try (0..<3).map { index in
        try bus.registerRing(
          address: 0x10 + UInt64(index) * 8, size: 8, match: .any, capacity: 1 << 14,
          wakeup: EventFD())
      }
      let poller = try EventPoller()
      for ring in rings { try poller.add(ring) }
      let collected = Mutex([RingDeliveryLog](repeating: RingDeliveryLog(), count: rings.count))
      let owner = Counter()
      let consumer = try HostThread {
        var logs = [RingDeliveryLog](repeating: RingDeliveryLog(), count: rings.count)
        var open = Set(rings.indices)
        var batch: [RingEntry] = []
        while !open.isEmpty {
          guard let ready = try? poller.wait(timeout: .seconds(10)) else { break }
          for (eventFD, _) in ready {
            guard let index = rings.firstIndex(where: { $0.eventFD === eventFD }) else { continue }
            if rings[index].drain(into: &batch) == .finished {
              open.remove(index)
              try? poller.remove(rings[index])
            }
            logs[index].record(batch)
            batch.removeAll(keepingCapacity: true)
          }
        }
        let result = logs
        collected.withAnnotatedLock(owner: owner) { $0 = result }
      }
      let logs = Mutex([Int: [ProducerLog]]())
      onThreads(rings.count) { index in
        let ring = rings[index]
        let log = produce(
          on: bus, at: ring.registration.exactAddress, threads: 2, writes: 5_000, ring: ring)
        logs.withAnnotatedLock(owner: owner) { $0[index] = log }
      }
      for ring in rings { try bus.unregister(ring.registration) }
      consumer.join()
      let delivered = collected.withAnnotatedLock(owner: owner) { $0 }
      let produced = logs.withAnnotatedLock(owner: owner) { $0 }
      for (index, ring) in rings.enumerated() {
        #expect(ring.isFinished)
        #expect(delivered[index].violations.isEmpty)
        #expect(delivered[index].writes.count == 10_000)
        for producerLog in produced[index] ?? [] {
          let producer = try #require(producerLog.producer)
          #expect(delivered[index].mismatches(of: producer, claimed: producerLog.claimed).isEmpty)
        }
      }
    }
  }
}

extension Registration {
  /// The address of an exact-address registration.
  fileprivate var exactAddress: UInt64 {
    if case .valueMatch(let address, _, _) = kind { return address }
    return 0
  }
}
