import ConcurrentBus
import Glibc
import RCU
import Testing

extension RingTests {
  @Suite("Ring wakeups")
  struct WakeupTests {
    /// The consumer pauses 5 ms after each wakeup, so each burst lands while its lane is
    /// non-empty (as in a release build, where 64 writes take less time than a wakeup).
    /// `stress bench` measures the same thing at full speed.
    @Test("a burst of 64 writes wakes its consumer once (median over bursts)")
    func oneWakeupPerBurst() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 256, wakeup: EventFD())
      let consumer = try RingConsumer(ring, drainDelay: .milliseconds(5))
      var signalsPerBurst: [UInt64] = []
      var sent = 0
      for burst in 0..<100 {
        let before = ring.statistics.wakeups
        for n in 0..<64 { _ = bus.write(address: 0x10, size: 8, value: UInt64(burst * 64 + n)) }
        sent += 64
        // Let the consumer drain the burst and go back to sleep before the next one.
        let deadline = ContinuousClock.now + .seconds(60)  // ends as soon as all are in
        while consumer.deliveredCount < sent, ContinuousClock.now < deadline { sched_yield() }
        signalsPerBurst.append(ring.statistics.wakeups - before)
      }
      try bus.unregister(ring.registration)
      let outcome = consumer.finish()
      #expect(outcome.log.writes.count == sent)
      let median = signalsPerBurst.sorted()[signalsPerBurst.count / 2]
      #expect(median == 1, "signals per burst: \(signalsPerBurst.prefix(20))")
      // The eventfd sums signals that arrive together: the consumer wakes at most once per
      // signal, plus once for the seal.
      #expect(outcome.wakeups <= Int(ring.statistics.wakeups) + 1)
      #expect(outcome.wakeups >= 100 / 2)
    }
  }
}
