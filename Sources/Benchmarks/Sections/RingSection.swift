import ConcurrentBus
import Glibc

/// The vCPU-side cost of a ring write against the other ways a VMM can take a guest write,
/// and the consumer wakeups a burst costs. One thread writes; rounds alternate between the
/// ring, the ioeventfd and the synchronous device, all on one bus; then bursts of writes,
/// each after an idle pause, count wakeups.
public struct RingSection: BenchSection {
  /// What the section measured.
  public struct Result: Codable, Sendable, Equatable {
    /// Registrations on the bus besides the three measured (a VM's devices).
    public var preexisting: Int
    /// Writes per round and path.
    public var operationsPerRound: Int
    /// ns per write claimed by a ring registration, a consumer thread draining meanwhile
    /// (timed in chunks of 4096 writes, each drained before the next).
    public var ringWriteNanos: Spread
    /// ns per write claimed by an ioeventfd registration (no consumer waiting on it: the
    /// eventfd's cheapest case).
    public var ioeventfdNanos: Spread
    /// ns per write claimed by a device model that handles it on the vCPU thread, under its
    /// own lock.
    public var synchronousCallNanos: Spread
    /// Producer signals per 1000 ring writes in the timed runs.
    public var ringSignalsPer1000Writes: Spread
    /// Ring writes lost in the timed runs: must be 0, or the loss path was measured.
    public var ringLost: UInt64
    /// Writes per burst.
    public var burstLength: Int
    /// Bursts, each drained before the next.
    public var bursts: Int
    /// The vCPU's idle time before each burst.
    public var idleMicrosecondsBetweenBursts: Int
    /// ns per write within a burst (the consumer asleep when it begins), one sample per burst.
    public var burstWriteNanos: Spread
    /// Consumer wakeups (poller returns) per burst.
    public var consumerWakeupsPerBurst: Spread
    /// Consumer wakeups per 1000 burst writes.
    public var consumerWakeupsPer1000Writes: Double
    /// Producer signals per burst.
    public var producerSignalsPerBurst: Spread
  }

  /// Registrations on the bus besides the three measured.
  public var preexisting: Int
  /// Writes per round and path; nil for 400,000 (100,000 with `quick`).
  public var operations: Int?
  /// Bursts; nil for 1000 (300 with `quick`).
  public var bursts: Int?
  /// Writes per burst.
  public var burstLength: Int
  /// The idle time before each burst.
  public var idleMicrosecondsBetweenBursts: Int

  /// The section.
  public init(
    preexisting: Int = 64, operations: Int? = nil, bursts: Int? = nil, burstLength: Int = 64,
    idleMicrosecondsBetweenBursts: Int = 200
  ) {
    self.preexisting = preexisting
    self.operations = operations
    self.bursts = bursts
    self.burstLength = burstLength
    self.idleMicrosecondsBetweenBursts = idleMicrosecondsBetweenBursts
  }

  /// `ring`.
  public var key: String { "ring" }

  /// Selected with the write side, by `write`.
  public var option: String { "write" }

  /// `rings`.
  public var title: String { "rings" }

  /// The paths a write is timed along, as rows, with their figures.
  private static var paths: [(label: String, nanos: KeyPath<Result, Spread>)] {
    [
      ("ring (a consumer thread draining)", \.ringWriteNanos),
      ("ioeventfd (no consumer waiting)", \.ioeventfdNanos),
      ("device model on the vCPU, under its lock", \.synchronousCallNanos),
    ]
  }

  /// A table of the three paths, then the signals and the bursts.
  public func render(_ ring: Result) -> String {
    var text = ReportText(
      heading: "VALUE RINGS (1 vCPU thread, \(ring.preexisting + 3) registrations; ns per "
        + "claimed write, median [min-max] of rounds; x = vs ioeventfd)")
    let columns: [TextColumn] = [.left(44), .right(9), .right(16), .right(9)]
    text.row(columns, "write claimed by", "ns", "range", "x")
    for (label, nanos) in Self.paths {
      let spread = ring[keyPath: nanos]
      text.row(
        columns, label, fixed(spread.median, 1), rangeText(spread, 1),
        fixed(spread.median / ring.ioeventfdNanos.median, 3))
    }
    text.line(
      "ring signals per 1000 writes in those runs: \(fixed(ring.ringSignalsPer1000Writes.median, 2)); "
        + "writes lost: \(ring.ringLost)")
    text.line(
      "\(ring.bursts) bursts of \(ring.burstLength) writes, \(ring.idleMicrosecondsBetweenBursts) us "
        + "apart, each drained before the next: "
        + "consumer wakeups per burst \(fixed(ring.consumerWakeupsPerBurst.median, 0)) (median, "
        + "max \(fixed(ring.consumerWakeupsPerBurst.max, 0))), "
        + "\(fixed(ring.consumerWakeupsPer1000Writes, 1)) per 1000 writes; producer signals per "
        + "burst \(fixed(ring.producerSignalsPerBurst.median, 0)) (median); "
        + "\(fixed(ring.burstWriteNanos.median, 1)) ns per write (median of bursts, wakeup "
        + "included)")
    return text.text
  }

  /// A ring write costs at most a fifth of an ioeventfd signal (per round: the paths
  /// alternate within each); a burst costs one wakeup (the median over bursts).
  public func judge(_ ring: Result, settings: BenchSettings) -> [TargetVerdict] {
    let ratios = zip(ring.ringWriteNanos.samples, ring.ioeventfdNanos.samples).map { $0 / $1 }
    let ratio = Spread(ratios).median
    let wakeups = ring.consumerWakeupsPerBurst.median
    return [
      Target(
        "a ring write costs <= 1/5 of an ioeventfd signal on the vCPU thread", .atMost(0.2),
        margin: 0.05
      )
      .judge(
        rounds: ratios,
        figure: String(
          format: "%.3fx (%.1f vs %.1f ns)", ratio, ring.ringWriteNanos.median,
          ring.ioeventfdNanos.median)),
      Target(
        "a burst of \(ring.burstLength) writes costs one consumer wakeup (median)", .exactly(1),
        margin: 0.5
      ).judge(
        rounds: ring.consumerWakeupsPerBurst.samples,
        figure: String(
          format: "%.0f wakeup(s) per burst (median), %.1f per 1000 writes", wakeups,
          ring.consumerWakeupsPer1000Writes)),
    ]
  }

  /// The three paths as a table, the signals and the bursts in a note.
  public func figures(_ ring: Result, settings: BenchSettings) -> SectionFigures {
    let wakeups = ring.consumerWakeupsPerBurst
    return SectionFigures(tables: [
      FigureTable(
        title: "Value rings (1 vCPU thread, \(ring.preexisting + 3) registrations; ns per "
          + "claimed write)",
        columns: ["write claimed by", "median", "min-max", "x ioeventfd"],
        rows: Self.paths.map { label, nanos in
          let spread = ring[keyPath: nanos]
          return [
            label, fixed(spread.median, 1), "\(fixed(spread.min, 1))-\(fixed(spread.max, 1))",
            fixed(spread.median / ring.ioeventfdNanos.median, 3),
          ]
        },
        notes: [
          "Ring signals per 1000 writes: \(fixed(ring.ringSignalsPer1000Writes.median, 2)); "
            + "writes lost: \(ring.ringLost). \(ring.bursts) bursts of \(ring.burstLength) "
            + "writes, \(ring.idleMicrosecondsBetweenBursts) us apart: consumer wakeups per "
            + "burst \(fixed(wakeups.median, 0)) (median, max \(fixed(wakeups.max, 0))), "
            + "\(fixed(ring.consumerWakeupsPer1000Writes, 1)) per 1000 writes; "
            + "\(fixed(ring.burstWriteNanos.median, 1)) ns per write within a burst (wakeup "
            + "included)."
        ])
    ])
  }
}

extension RingSection {
  /// Measures on the calling thread, registered as a memb reader, with a consumer thread.
  public func measure(_ settings: BenchSettings) throws -> Result {
    let operations = self.operations ?? (settings.quick ? 100_000 : 400_000)
    let bursts = self.bursts ?? (settings.quick ? 300 : 1000)
    MembRCU.registerCurrentThread()
    let bus = try BusTarget<MembRCU>(entries: preexisting).bus
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
    for round in 0..<settings.rounds + 1 {  // round 0 warms up and is not kept
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
    return Result(
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
