import ConcurrentBus
import RCU
import Testing

extension RingTests {
  @Suite("Full lanes")
  struct OverflowTests {
    @Test("a full lane loses writes as a counted, in-order loss; the vCPU never waits")
    func lossIsReportedWhereItHappened() throws {
      let bus = IOBus()
      let eventFD = try EventFD()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 4, wakeup: eventFD)
      let producer = try #require(RingProducer.current)
      func write(_ values: Range<UInt64>) {
        for value in values {
          #expect(bus.write(address: 0x10, size: 8, value: value) == .claimed(ring.registration.id))
        }
      }
      func record(_ sequence: UInt64) -> RingEntry {
        .write(
          RingWrite(producer: producer, sequence: sequence, offset: 0, size: 8, value: sequence))
      }
      func drain() -> [RingEntry] {
        var entries: [RingEntry] = []
        ring.drain(into: &entries)
        return entries
      }

      write(0..<10)
      // One wakeup for the empty lane, one more when the losses began.
      #expect(
        ring.statistics
          == ValueRingStatistics(recorded: 4, lost: 6, wakeups: 2, failedWakeups: 0, declined: 0))
      #expect(eventFD.drain() == 2)
      #expect(
        drain() == (0..<4).map(record) + [.lost(RingLoss(producer: producer, sequences: 4..<10))])
      write(10..<12)
      #expect(drain() == [record(10), record(11)])
      // A second episode, and values written after it continue the sequence.
      write(12..<18)
      #expect(
        drain() == (12..<16).map(record) + [.lost(RingLoss(producer: producer, sequences: 16..<18))]
      )
      write(18..<19)
      #expect(drain() == [record(18)])
      #expect(ring.statistics.lost == 8)
      #expect(ring.statistics.wakeups == 6)  // 2, +1 (10), +2 (12, 16), +1 (18)
    }

    @Test(
      "producers outrunning a consumer: every claimed write is delivered or reported lost, in order"
    )
    func concurrentLossAccounting() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 8, wakeup: EventFD())
      let consumer = try RingConsumer(ring)
      let logs = produce(on: bus, at: 0x10, threads: 2, writes: 50_000, ring: ring)
      try bus.unregister(ring.registration)
      let outcome = consumer.finish()
      #expect(outcome.failure == nil)
      #expect(outcome.finished)
      #expect(outcome.log.violations.isEmpty, "\(outcome.log.violations.prefix(5))")
      for log in logs {
        let problems = outcome.log.mismatches(of: try #require(log.producer), claimed: log.claimed)
        #expect(problems.isEmpty, "\(problems)")
      }
      let statistics = ring.statistics
      #expect(outcome.log.lost > 0, "the lanes never filled: nothing was tested")
      #expect(statistics.lost == outcome.log.lost)
      #expect(statistics.recorded == UInt64(outcome.log.writes.count))
      #expect(statistics.recorded + statistics.lost == 100_000)
    }
  }
}
