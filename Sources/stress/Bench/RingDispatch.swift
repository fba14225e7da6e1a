import ConcurrentBus
import Glibc
import HostSupport
import RCU
import StressKit
import Synchronization

/// The vCPU-side cost of a ring write against the other ways a VMM can take a guest write,
/// and the consumer wakeups a burst costs.
struct RingResults: Codable, Sendable {
  /// Registrations on the bus besides the three measured (a VM's devices).
  var preexisting: Int
  var operationsPerRound: Int
  /// ns per write claimed by a ring registration, a consumer thread draining meanwhile
  /// (timed in chunks of 4096 writes, each drained before the next).
  var ringWriteNanos: Spread
  /// ns per write claimed by an ioeventfd registration (no consumer waiting on it: the
  /// eventfd's cheapest case).
  var ioeventfdNanos: Spread
  /// ns per write claimed by a device model that handles it on the vCPU thread, under its
  /// own lock.
  var synchronousCallNanos: Spread
  /// Producer signals per 1000 ring writes in the timed runs, and writes lost (must be 0,
  /// or the loss path was measured).
  var ringSignalsPer1000Writes: Spread
  var ringLost: UInt64
  /// Bursts of `burstLength` writes, each drained before the next, with the vCPU idle for
  /// `idleMicrosecondsBetweenBursts` before each.
  var burstLength: Int
  var bursts: Int
  var idleMicrosecondsBetweenBursts: Int
  /// Consumer wakeups (poller returns) per burst and per 1000 writes; producer signals per burst.
  /// ns per write within a burst (the consumer asleep when it begins), one sample per burst.
  var burstWriteNanos: Spread
  var consumerWakeupsPerBurst: Spread
  var consumerWakeupsPer1000Writes: Double
  var producerSignalsPerBurst: Spread
}

/// One thread writes; rounds alternate between the ring, the ioeventfd and the synchronous
/// device, all on one bus; then bursts of `burstLength` writes measure wakeups.
func measureRingDispatch(
  preexisting: Int, operations: Int, rounds: Int, bursts: Int, burstLength: Int = 64,
  idleMicrosecondsBetweenBursts: Int = 200
) throws -> RingResults {
  MembRCU.registerCurrentThread()
  let bus = IOBus()
  _ = try BusTarget(bus: bus, entries: preexisting)
  let ringAddress: UInt64 = 0xE000_0000
  let eventAddress: UInt64 = 0xE000_0008
  let deviceAddress: UInt64 = 0xE000_0010
  let ringChunk = 4096
  let chunks = max(operations / ringChunk, 1)
  let ring = try bus.registerRing(
    address: ringAddress, size: 8, match: .any, capacity: 4 * ringChunk, wakeup: EventFD())
  let eventFD = try EventFD()
  _ = try bus.registerEventFD(eventFD, address: eventAddress, size: 8, match: .any)
  _ = try bus.register(SynchronousModel(), address: deviceAddress, size: 8, match: .any)
  let consumer = try RingBenchConsumer(ring)

  var ringNanos: [Double] = []
  var eventNanos: [Double] = []
  var deviceNanos: [Double] = []
  var signalRates: [Double] = []
  var written = 0
  for round in 0..<rounds + 1 {  // round 0 warms up and is not kept
    let signalsBefore = ring.statistics.wakeups
    // In chunks smaller than a lane, each drained before the next (untimed), so that a
    // consumer thread descheduled for a while never makes the run measure the loss path.
    var ringTime = 0.0
    for _ in 0..<chunks {
      ringTime += timeWrites(bus, address: ringAddress, operations: ringChunk)
      written += ringChunk
      try consumer.awaitDelivered(written)
    }
    let signals = ring.statistics.wakeups - signalsBefore
    let eventTime = timeWrites(bus, address: eventAddress, operations: chunks * ringChunk)
    _ = eventFD.drain()
    let deviceTime = timeWrites(bus, address: deviceAddress, operations: chunks * ringChunk)
    if round > 0 {
      ringNanos.append(ringTime / Double(chunks))
      eventNanos.append(eventTime)
      deviceNanos.append(deviceTime)
      signalRates.append(Double(signals) * 1000 / Double(chunks * ringChunk))
    }
  }
  let lost = ring.statistics.lost

  var wakeupsPerBurst: [Double] = []
  var signalsPerBurst: [Double] = []
  var burstNanos: [Double] = []
  for burst in 0..<bursts {
    // The guest does something else between bursts: long enough for the consumer to be
    // asleep in epoll_wait when the next burst begins.
    usleep(UInt32(idleMicrosecondsBetweenBursts))
    let wakeupsBefore = consumer.wakeups
    let signalsBefore = ring.statistics.wakeups
    burstNanos.append(
      timeWrites(
        bus, address: ringAddress, operations: burstLength, firstValue: burst * burstLength))
    written += burstLength
    try consumer.awaitDelivered(written)
    wakeupsPerBurst.append(Double(consumer.wakeups - wakeupsBefore))
    signalsPerBurst.append(Double(ring.statistics.wakeups - signalsBefore))
  }
  try bus.unregister(ring.registration)
  consumer.join()
  return RingResults(
    preexisting: preexisting, operationsPerRound: operations,
    ringWriteNanos: Spread(ringNanos), ioeventfdNanos: Spread(eventNanos),
    synchronousCallNanos: Spread(deviceNanos), ringSignalsPer1000Writes: Spread(signalRates),
    ringLost: lost, burstLength: burstLength, bursts: bursts,
    idleMicrosecondsBetweenBursts: idleMicrosecondsBetweenBursts,
    burstWriteNanos: Spread(burstNanos), consumerWakeupsPerBurst: Spread(wakeupsPerBurst),
    consumerWakeupsPer1000Writes: wakeupsPerBurst.reduce(0, +) * 1000
      / Double(bursts * burstLength),
    producerSignalsPerBurst: Spread(signalsPerBurst))
}

/// The ring targets of the issue, judged on this run.
func judgeRingTargets(_ ring: RingResults) -> [TargetResult] {
  let ratio = ring.ringWriteNanos.median / ring.ioeventfdNanos.median
  let wakeups = ring.consumerWakeupsPerBurst.median
  return [
    TargetResult(
      name: "a ring write costs <= 1/5 of an ioeventfd signal on the vCPU thread",
      figure:
        String(
          format: "%.3fx (%.1f vs %.1f ns)", ratio, ring.ringWriteNanos.median,
          ring.ioeventfdNanos.median),
      value: ratio, met: ratio <= 0.2),
    TargetResult(
      name: "a burst of \(ring.burstLength) writes costs one consumer wakeup (median)",
      figure: String(
        format: "%.0f wakeup(s) per burst (median), %.1f per 1000 writes", wakeups,
        ring.consumerWakeupsPer1000Writes),
      value: wakeups, met: wakeups == 1),
  ]
}

@inline(never)
private func timeWrites(
  _ bus: IOBus<MembRCU>, address: UInt64, operations: Int, firstValue: Int = 0
) -> Double {
  var unclaimed = 0
  let start = monotonicNanos()
  for index in firstValue..<firstValue + operations {
    if bus.write(address: address, size: 8, value: UInt64(index)) == .unclaimed { unclaimed += 1 }
  }
  let elapsed = monotonicNanos() - start
  precondition(unclaimed == 0, "a measured write went unclaimed")
  return Double(elapsed) / Double(operations)
}

/// A device model that handles each write on the vCPU thread, under the lock a model shared
/// by several vCPUs needs.
private final class SynchronousModel: IODevice {
  private let state = Mutex((writes: UInt64(0), last: UInt64(0)))

  func read(offset: UInt64, size: Int) -> UInt64? { nil }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    state.withLock { $0 = ($0.writes &+ 1, value) }
    return true
  }
}

/// The ring's consumer: a thread that drains after each `EventPoller` wakeup until the ring
/// is finished, counting wakeups and entries.
private final class RingBenchConsumer: Sendable {
  private final class Counts: Sendable {
    let delivered = Atomic<Int>(0)
    let wakeups = Atomic<Int>(0)
  }

  private let counts = Counts()
  private let thread: HostThread

  init(_ ring: ValueRing) throws {
    let poller = try EventPoller()
    try poller.add(ring)
    let counts = self.counts
    thread = try HostThread {
      var batch: [RingEntry] = []
      batch.reserveCapacity(1 << 14)
      while ring.drain(into: &batch) == .open {
        counts.delivered.add(Self.writes(in: batch), ordering: .releasing)
        batch.removeAll(keepingCapacity: true)
        guard let ready = try? poller.wait(timeout: nil) else { return }
        if !ready.isEmpty { counts.wakeups.add(1, ordering: .releasing) }
      }
      counts.delivered.add(Self.writes(in: batch), ordering: .releasing)
    }
  }

  /// The writes `batch` accounts for, lost ones included.
  private static func writes(in batch: [RingEntry]) -> Int {
    batch.reduce(0) { $0 + $1.sequences.count }
  }

  /// Poller waits that returned the ring's eventfd so far.
  var wakeups: Int { counts.wakeups.load(ordering: .acquiring) }

  /// Waits (yielding) until `count` writes have been delivered or reported lost.
  func awaitDelivered(_ count: Int) throws(SetupFailure) {
    let deadline = monotonicNanos() + 10_000_000_000
    while counts.delivered.load(ordering: .acquiring) < count {
      guard monotonicNanos() < deadline else {
        throw SetupFailure(
          message: "ring bench: the consumer stopped receiving writes (a lost wakeup?)")
      }
      sched_yield()
    }
  }

  func join() { thread.join() }
}

/// The ring section of the report.
func renderRing(_ ring: RingResults) -> String {
  var out = ""
  func line(_ text: String = "") { out += text + "\n" }
  func row(_ name: String, _ spread: Spread) {
    line(
      padRight(name, 44) + pad(f(spread.median, 1), 9)
        + pad("[\(f(spread.min, 1))-\(f(spread.max, 1))]", 16)
        + pad(f(spread.median / ring.ioeventfdNanos.median, 3), 9))
  }
  line()
  line(
    "VALUE RINGS (1 vCPU thread, \(ring.preexisting + 3) registrations; ns per claimed write, "
      + "median [min-max] of rounds; x = vs ioeventfd)")
  line(padRight("write claimed by", 44) + pad("ns", 9) + pad("range", 16) + pad("x", 9))
  row("ring (a consumer thread draining)", ring.ringWriteNanos)
  row("ioeventfd (no consumer waiting)", ring.ioeventfdNanos)
  row("device model on the vCPU, under its lock", ring.synchronousCallNanos)
  line(
    "ring signals per 1000 writes in those runs: \(f(ring.ringSignalsPer1000Writes.median, 2)); "
      + "writes lost: \(ring.ringLost)")
  line(
    "\(ring.bursts) bursts of \(ring.burstLength) writes, \(ring.idleMicrosecondsBetweenBursts) us "
      + "apart, each drained before the next: "
      + "consumer wakeups per burst \(f(ring.consumerWakeupsPerBurst.median, 0)) (median, "
      + "max \(f(ring.consumerWakeupsPerBurst.max, 0))), "
      + "\(f(ring.consumerWakeupsPer1000Writes, 1)) per 1000 writes; producer signals per burst "
      + "\(f(ring.producerSignalsPerBurst.median, 0)) (median); "
      + "\(f(ring.burstWriteNanos.median, 1)) ns per write (median of bursts, wakeup included)")
  return out
}
