import ConcurrentBus

/// A writer asking for 1000 updates/s (a register, then a synchronous unregister, each an
/// update) while 2 x cores readers share the cores with it, flavor by flavor, with
/// tight-loop and with vCPU-like readers, at 64 entries.
public struct OversubscriptionSection: BenchSection {
  /// One flavor with one reader behaviour.
  public struct Cell: Codable, Sendable, Equatable {
    /// The flavor.
    public var flavor: BenchFlavor
    /// How the readers behave.
    public var behaviour: ReaderBehaviour
    /// Reader threads.
    public var readers: Int
    /// CPUs online.
    public var cores: Int
    /// Updates per second the writer achieved, one sample per round (asked: 1000).
    public var updatesPerSecond: Spread
    /// Every synchronous unregister of every round, in nanoseconds.
    public var unregister: SampleSummary
    /// Dispatches per second, all readers together, one sample per round.
    public var readerThroughput: Spread
  }

  /// The section.
  public init() {}

  /// `oversubscription`.
  public var key: String { "oversubscription" }

  /// `writers under oversubscription`.
  public var title: String { "writers under oversubscription" }

  /// Measures every flavor and behaviour, each run 2.5 x the read side's length, in paired
  /// rounds: a round runs every configuration once, in rotated order. While the target is
  /// unsettled, more rounds run the vCPU-like configurations, the ones it judges.
  public func measure(_ settings: BenchSettings) throws -> [Cell] {
    let readers = 2 * settings.cores
    let configurations = ReaderBehaviour.allCases.flatMap { behaviour in
      settings.flavors.map { Configuration(flavor: $0, behaviour: behaviour) }
    }
    var runs: [Configuration: [ReadRun]] = [:]
    func cells() -> [Cell] {
      configurations.compactMap { configuration in
        runs[configuration].map { samples in
          Cell(
            flavor: configuration.flavor, behaviour: configuration.behaviour, readers: readers,
            cores: settings.cores, updatesPerSecond: Spread(samples.map(\.updatesPerSecond)),
            unregister: SampleSummary(nanos: samples.flatMap(\.unregisterNanos)),
            readerThroughput: Spread(samples.map(\.throughput)))
        }
      }
    }
    _ = try resolvingRounds(settings, title: title) { round in
      let measured =
        round < settings.rounds
        ? configurations : configurations.filter { $0.behaviour == .vcpuLike }
      for offset in measured.indices {
        let configuration = measured[(round + offset) % measured.count]
        let run = try configuration.flavor.run(
          OversubscribedRun(
            readers: readers, behaviour: configuration.behaviour, seconds: settings.seconds * 2.5))
        precondition(run.unclaimed == 0, "an oversubscribed dispatch went unclaimed")
        configuration.flavor.barrier()
        runs[configuration, default: []].append(run)
      }
    } resolved: { _ in
      judge(cells(), settings: settings).allSatisfy(\.isSettled)
    }
    return cells()
  }

  /// A flavor with a reader behaviour.
  private struct Configuration: Hashable {
    let flavor: BenchFlavor
    let behaviour: ReaderBehaviour
  }

  /// A table of every cell, in measurement order.
  public func render(_ cells: [Cell]) -> String {
    guard let first = cells.first else { return "" }
    var text = ReportText(
      heading: "WRITER UNDER OVERSUBSCRIPTION (\(first.readers) readers on \(first.cores) cores, "
        + "64 entries; writer asks 1000 updates/s,",
      "half of them synchronous unregisters; vcpu-like = \(VCPUTiming.burst) dispatches, then "
        + "\(VCPUTiming.guestNanos / 1000) us spinning outside any section, offline under qsbr)")
    let columns: [TextColumn] = [
      .left(8), .left(12), .right(7), .right(14), .right(11), .right(10), .right(10), .right(9),
    ]
    text.row(
      columns, "flavor", " readers", "upd/s", "range", "unreg p50", "p99", "max", "Mdisp/s")
    for cell in cells {
      text.row(
        columns, cell.flavor.rawValue, " " + cell.behaviour.rawValue,
        fixed(cell.updatesPerSecond.median, 0), rangeText(cell.updatesPerSecond, 0),
        micros(cell.unregister.median), micros(cell.unregister.p99), micros(cell.unregister.max),
        fixed(cell.readerThroughput.median / 1e6, 1))
    }
    return text.text
  }

  /// With vCPU-like readers the writer reaches 90% of 1000 updates/s on every flavor.
  /// Tight-loop readers are in the figure, for contrast, but not judged.
  public func judge(_ cells: [Cell], settings: BenchSettings) -> [TargetVerdict] {
    let vcpu = cells.filter { $0.behaviour == .vcpuLike }
    guard let first = vcpu.first else { return [] }
    func rates(_ cells: [Cell]) -> String {
      cells.map { "\($0.flavor.rawValue) \(Int($0.updatesPerSecond.median))" }
        .joined(separator: ", ")
    }
    // Each round's slowest flavor: the rounds every vCPU-like cell has.
    let rounds = vcpu.map(\.updatesPerSecond.samples.count).min()!
    let slowest = (0..<rounds).map { round in
      vcpu.map { $0.updatesPerSecond.samples[round] }.min()!
    }
    return [
      Target(
        "\(first.readers) vCPU-like readers on \(first.cores) cores: writer >= 900 of 1000 "
          + "updates/s on every flavor (the slowest flavor, per round)", .atLeast(900),
        margin: 50
      ).judge(
        rounds: slowest,
        figure: "\(rates(vcpu)) /s (tight-loop readers: "
          + "\(rates(cells.filter { $0.behaviour == .tightLoop })) /s)")
    ]
  }

  /// A table of every cell, and the writer's rate per flavor as bars.
  public func figures(_ cells: [Cell], settings: BenchSettings) -> SectionFigures {
    guard let first = cells.first else { return SectionFigures() }
    let table = FigureTable(
      title: "Writer under oversubscription: \(first.readers) busy readers on \(first.cores) "
        + "cores, writer asking 1000 updates/s (half of them synchronous unregisters)",
      columns: [
        "flavor", "readers", "updates/s (min-max)", "unregister p50 us", "p99 us", "max us",
        "readers' M dispatches/s",
      ], labels: 2,
      rows: cells.map { cell in
        let rate = cell.updatesPerSecond
        return [
          cell.flavor.rawValue, cell.behaviour.rawValue,
          "\(fixed(rate.median, 0)) (\(fixed(rate.min, 0))-\(fixed(rate.max, 0)))",
          micros(cell.unregister.median), micros(cell.unregister.p99),
          micros(cell.unregister.max), fixed(cell.readerThroughput.median / 1e6, 2),
        ]
      })
    let panel = FlavorChart.bars(
      cells, title: "\(first.readers) readers on \(first.cores) cores",
      yLabel: "writer updates/s achieved (asked: 1000)", guide: 900, flavor: \.flavor,
      groups: ReaderBehaviour.allCases, group: \.behaviour, label: { "\($0.rawValue) readers" },
      value: \.updatesPerSecond.median)
    return SectionFigures(tables: [table], charts: [FlavorChart.chart(panel)])
  }
}

/// One run on one flavor, on a bus of its own.
private struct OversubscribedRun: FlavorGenericWork {
  let readers: Int
  let behaviour: ReaderBehaviour
  let seconds: Double

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> ReadRun {
    try measureReads(
      BusTarget<Flavor>(entries: 64), threads: readers, entries: 64, churn: .rate1000,
      seconds: seconds, readers: behaviour)
  }
}
