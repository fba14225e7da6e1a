import ConcurrentBus
import Glibc
import HostSupport
import RCU
import Synchronization
import Testing

/// What one producer thread wrote to a ring's address.
struct ProducerLog: Sendable {
  /// The thread's producer slot.
  var producer: RingProducer?
  /// The values of its writes the ring claimed, in order.
  var claimed: [UInt64] = []
  /// Writes something else took, or nobody.
  var notClaimed = 0
}

/// Each of `threads` real threads writes `writes` values `thread << 32 | n` (size 8) at
/// `address`, logging which ones the ring claimed.
///
/// Every thread takes its producer slot before any starts writing: a thread that exited
/// early would otherwise hand its slot (and lane) to a later one, and the two would share a
/// sequence.
func produce(
  on bus: IOBus<MembRCU>, at address: UInt64, threads: Int, writes: Int, ring: ValueRing
) -> [ProducerLog] {
  let logs = Mutex([ProducerLog](repeating: ProducerLog(), count: threads))
  let owner = Counter()
  let slotted = Atomic<Int>(0)
  onThreads(threads) { thread in
    var log = ProducerLog(producer: RingProducer.current)
    slotted.add(1, ordering: .relaxed)
    while slotted.load(ordering: .relaxed) < threads { sched_yield() }
    log.claimed.reserveCapacity(writes)
    for n in 0..<writes {
      let value = UInt64(thread) << 32 | UInt64(n)
      if bus.write(address: address, size: 8, value: value) == .claimed(ring.registration.id) {
        log.claimed.append(value)
      } else {
        log.notClaimed += 1
      }
    }
    let result = log
    logs.withAnnotatedLock(owner: owner) { $0[thread] = result }
  }
  return logs.withAnnotatedLock(owner: owner) { $0 }
}

extension RingTests {
  @Suite("Rings under concurrency")
  struct ConcurrencyTests {
    @Test("several producer threads: each write delivered exactly once, in its thread's order")
    func exactlyOnceInProducerOrder() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 4096, wakeup: EventFD())
      let consumer = try RingConsumer(ring)
      let logs = produce(on: bus, at: 0x10, threads: 3, writes: 30_000, ring: ring)
      try bus.unregister(ring.registration)
      let outcome = consumer.finish()
      #expect(outcome.failure == nil)
      #expect(outcome.finished)
      #expect(outcome.entriesFoundAfterTimeout == 0, "a wakeup was lost")
      #expect(outcome.log.violations.isEmpty, "\(outcome.log.violations.prefix(5))")
      #expect(Set(logs.compactMap(\.producer)).count == 3, "producers must not share a slot")
      for log in logs {
        #expect(log.notClaimed == 0)
        let problems = outcome.log.mismatches(of: try #require(log.producer), claimed: log.claimed)
        #expect(problems.isEmpty, "\(problems)")
      }
      #expect(UInt64(outcome.log.writes.count) + outcome.log.lost == 90_000)
    }

    @Test(
      "unregister under concurrent writers: all claimed before are delivered, none after",
      arguments: ["memb", "bp"])
    func unregisterPromise(flavor: String) throws {
      if flavor == "memb" {
        try checkUnregisterPromise(IOBus(flavor: MembRCU.self))
      } else {
        try checkUnregisterPromise(IOBus(flavor: BulletproofRCU.self))
      }
    }

    @Test("no wakeup is lost when a consumer goes to sleep as a producer appends")
    func noLostWakeup() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 1024, wakeup: EventFD())
      // A consumer that never times out. One producer: once a wakeup is lost its lane stays
      // non-empty, so no later write signals either, and the next check below sees it stuck.
      let consumer = try RingConsumer(ring, timeout: .seconds(3600))
      var random = SplitMix64(seed: 13)
      var sent = 0
      var stuck = false
      for phase in 0..<100 where !stuck {
        // Writes spaced by 0 to a few hundred nanoseconds: the consumer wakes and drains
        // while they keep coming, so they land at every point of its drain, including
        // between its head store and its last look at the tail.
        for n in 0..<200 {
          _ = bus.write(address: 0x10, size: 8, value: UInt64(phase * 200 + n))
          for _ in 0..<(random.next() % 64) { spinHint() }
        }
        sent += 200
        let deadline = ContinuousClock.now + .seconds(60)  // ends as soon as all are in
        while consumer.deliveredCount < sent, ContinuousClock.now < deadline { sched_yield() }
        stuck = consumer.deliveredCount < sent
      }
      #expect(!stuck, "writes were never delivered: a wakeup was lost")
      // Only now: the seal's own signal would rescue a stuck lane.
      try bus.unregister(ring.registration)
      let outcome = consumer.finish()
      #expect(outcome.log.violations.isEmpty)
      #expect(outcome.log.lost == 0)
      #expect(outcome.log.writes.count == sent)
    }
  }
}

/// A device that takes its time, then declines: a write that reaches it stays about 1 ms in
/// the bus's read-side section before the bus offers it to the next entry.
final class SlowDecliner: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { nil }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    usleep(1000)
    return false
  }
}

/// Writers hammer a range ring while another thread unregisters it: every write the ring
/// claimed must be delivered exactly once, in order, and none written after the unregister
/// returned may be claimed or delivered.
///
/// One write in 64 meets a ``SlowDecliner`` first, so some writer is nearly always deep inside
/// a read-side section when the unregister publishes, and reaches the ring long after the
/// consumer would have finished: an unregister (or a seal) that did not wait for it loses
/// it. With `BrokenRCU` (grace periods that do not wait) this check reports a claimed write
/// never delivered (or the process crashes reading a freed table).
func checkUnregisterPromise<Flavor: RCUFlavor>(_ bus: IOBus<Flavor>) throws {
  let ring = try bus.registerRing(base: 0, length: 0x100, capacity: 1 << 16, wakeup: EventFD())
  _ = try bus.register(SlowDecliner(), address: 0x10, size: 8, match: .any)
  let consumer = try RingConsumer(ring)
  let threads = 3
  let unregistered = Atomic<Bool>(false)
  let written = Atomic<Int>(0)
  let slotted = Atomic<Int>(0)
  let logs = Mutex([ProducerLog](repeating: ProducerLog(), count: threads))
  /// Per thread: the first n written after unregister returned, and how many of those (or of
  /// any write) something other than the ring claimed.
  let afterUnregister = Mutex([(first: Int, claimed: Int)](repeating: (0, 0), count: threads))
  let owner = Counter()
  onThreads(threads + 1) { thread in
    if thread == threads {
      while written.load(ordering: .relaxed) < 20_000 { sched_yield() }
      try! bus.unregister(ring.registration)
      unregistered.store(true, ordering: .releasing)
      return
    }
    var log = ProducerLog(producer: RingProducer.current)
    // Every writer holds its slot before any can finish (see produce(on:...)).
    slotted.add(1, ordering: .relaxed)
    while slotted.load(ordering: .relaxed) < threads { sched_yield() }
    var first = -1
    var claimedAfter = 0
    var n = 0
    while first < 0 || n < first + 2_000 {
      if first < 0 && unregistered.load(ordering: .acquiring) { first = n }
      let value = UInt64(thread) << 32 | UInt64(n)
      switch bus.write(address: n % 64 == 0 ? 0x10 : 0x18, size: 8, value: value) {
      case .claimed(ring.registration.id):
        log.claimed.append(value)
        if first >= 0 { claimedAfter += 1 }
      case .unclaimed: log.notClaimed += 1
      default: claimedAfter += 1  // nothing else may take it
      }
      n += 1
      written.add(1, ordering: .relaxed)
    }
    let result = log
    logs.withAnnotatedLock(owner: owner) { $0[thread] = result }
    afterUnregister.withAnnotatedLock(owner: owner) { $0[thread] = (first, claimedAfter) }
  }
  let outcome = consumer.finish()
  #expect(outcome.failure == nil)
  #expect(outcome.finished)
  #expect(outcome.log.violations.isEmpty, "\(outcome.log.violations.prefix(5))")
  let producerLogs = logs.withAnnotatedLock(owner: owner) { $0 }
  let firstAfter = afterUnregister.withAnnotatedLock(owner: owner) { $0 }
  for (log, after) in zip(producerLogs, firstAfter) {
    #expect(after.claimed == 0, "writes after unregister returned were claimed")
    #expect(log.notClaimed >= 2_000)
    let problems = outcome.log.mismatches(of: try #require(log.producer), claimed: log.claimed)
    #expect(problems.isEmpty, "\(problems)")
  }
  // Nothing written after the unregister returned reached the consumer.
  let late = outcome.log.writes.filter {
    Int($0.value & 0xFFFF_FFFF) >= firstAfter[Int($0.value >> 32)].first
  }
  #expect(late.isEmpty, "\(late.prefix(3))")
  #expect(outcome.log.writes.count > 10_000)
}

/// A pause the optimizer keeps.
@inline(never)
func spinHint() {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { _ in }
}
