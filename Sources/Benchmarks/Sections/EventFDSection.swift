import ConcurrentBus
import HostSupport

/// Eventfd signalling through the bus against the same writes made directly, on one
/// thread: `registrations` eventfds, each registered at its own address, writes drawn
/// uniformly over them. Rounds alternate between the two loops.
public struct EventFDSection: BenchSection {
  /// What the section measured.
  public struct Result: Codable, Sendable, Equatable {
    /// ioeventfd registrations on the bus.
    public var registrations: Int
    /// Writes per round and loop.
    public var operationsPerRound: Int
    /// Nanoseconds per guest write dispatched to an ioeventfd registration.
    public var busDispatchNanos: Spread
    /// Nanoseconds per bare `write(2)` to the same eventfds, in the same order.
    public var bareWriteNanos: Spread
  }

  /// ioeventfd registrations on the bus.
  public var registrations: Int
  /// Writes per round and loop; nil for 400,000 (100,000 with `quick`).
  public var operations: Int?

  /// The section, writing `operations` times over `registrations` eventfds per round.
  public init(registrations: Int = 64, operations: Int? = nil) {
    self.registrations = registrations
    self.operations = operations
  }

  /// `eventFD`.
  public var key: String { "eventFD" }

  /// Selected with the write side, by `write`.
  public var option: String { "write" }

  /// `eventfd`.
  public var title: String { "eventfd" }

  /// Measures on the calling thread, registered as a memb reader.
  public func measure(_ settings: BenchSettings) throws -> Result {
    let operations = self.operations ?? (settings.quick ? 100_000 : 400_000)
    MembRCU.registerCurrentThread()
    let eventFDs = try (0..<registrations).map { _ in try EventFD() }
    let bus = IOBus()
    for (index, eventFD) in eventFDs.enumerated() {
      _ = try bus.registerEventFD(
        eventFD, address: 0xE000_0000 + UInt64(index) * 8, size: 4, match: .any)
    }
    var random = SplitMix64(seed: 7)
    let picks = (0..<4096).map { _ in Int.random(in: 0..<registrations, using: &random) }
    let addresses = picks.map { 0xE000_0000 + UInt64($0) * 8 }

    var busNanos: [Double] = []
    var bareNanos: [Double] = []
    for _ in 0..<settings.rounds {
      busNanos.append(timeBusDispatch(bus, addresses: addresses, operations: operations))
      bareNanos.append(timeBareWrites(eventFDs, picks: picks, operations: operations))
      for eventFD in eventFDs { _ = eventFD.drain() }
    }
    return Result(
      registrations: registrations, operationsPerRound: operations,
      busDispatchNanos: Spread(busNanos), bareWriteNanos: Spread(bareNanos))
  }

  /// One line: both costs and the bus's overhead.
  public func render(_ result: Result) -> String {
    let (bus, bare) = (result.busDispatchNanos, result.bareWriteNanos)
    var text = ReportText(
      heading: "EVENTFD (1 thread, \(result.registrations) ioeventfd registrations; ns per write)")
    text.line(
      "bus dispatch \(fixed(bus.median, 1)) \(rangeText(bus, 1))"
        + "   bare eventfd write \(fixed(bare.median, 1)) \(rangeText(bare, 1))"
        + "   overhead \(fixed(bus.median - bare.median, 1)) ns")
    return text.text
  }

  /// None: the figures stand as a reference.
  public func judge(_ result: Result, settings: BenchSettings) -> [TargetVerdict] { [] }

  /// Both costs as a table.
  public func figures(_ result: Result, settings: BenchSettings) -> SectionFigures {
    let rows = [
      ("guest write dispatched by the bus to an IOEventFD", result.busDispatchNanos),
      ("bare eventfd `write(2)`, same eventfds, same order", result.bareWriteNanos),
    ]
    return SectionFigures(tables: [
      FigureTable(
        title:
          "Eventfd (\(result.registrations) ioeventfd registrations, 1 thread; ns per write)",
        columns: ["path", "median", "min-max"],
        rows: rows.map { label, spread in
          [label, fixed(spread.median, 1), "\(fixed(spread.min, 1))-\(fixed(spread.max, 1))"]
        })
    ])
  }
}

@inline(never)
private func timeBusDispatch(_ bus: IOBus<MembRCU>, addresses: [UInt64], operations: Int)
  -> Double
{
  let mask = addresses.count - 1
  var unclaimed = 0
  let start = monotonicNanos()
  for index in 0..<operations {
    if bus.write(address: addresses[index & mask], size: 4, value: 1) == .unclaimed {
      unclaimed += 1
    }
  }
  let elapsed = monotonicNanos() - start
  precondition(unclaimed == 0, "an ioeventfd write went unclaimed")
  return Double(elapsed) / Double(operations)
}

@inline(never)
private func timeBareWrites(_ eventFDs: [EventFD], picks: [Int], operations: Int) -> Double {
  let mask = picks.count - 1
  var failed = 0
  let start = monotonicNanos()
  for index in 0..<operations {
    if case .signalled = eventFDs[picks[index & mask]].trySignal() {} else { failed += 1 }
  }
  let elapsed = monotonicNanos() - start
  precondition(failed == 0, "an eventfd write failed")
  return Double(elapsed) / Double(operations)
}
