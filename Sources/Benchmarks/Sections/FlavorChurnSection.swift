import ConcurrentBus

/// What churn at 1000 updates/s costs busy readers, flavor by flavor: their throughput with
/// the writer against without it, measured back to back in each round, with 1 reader and
/// with a reader on every core, at 64 entries.
public struct FlavorChurnSection: BenchSection {
  /// One flavor at one reader count.
  public struct Cell: Codable, Sendable, Equatable {
    /// The flavor.
    public var flavor: BenchFlavor
    /// Entries in the table.
    public var entries: Int
    /// Busy reader threads.
    public var readers: Int
    /// Dispatches per second, all readers together, no writer.
    public var quiet: Spread
    /// The same with the writer asking for 1000 updates/s.
    public var churned: Spread
    /// Updates per second the writer achieved.
    public var updatesPerSecond: Spread
    /// 1 - churned / quiet, one sample per round (each round's pair ran back to back).
    public var loss: Spread
    /// The writer's synchronous unregisters, every round's, in nanoseconds.
    public var unregister: SampleSummary
  }

  /// The section.
  public init() {}

  /// `churn`.
  public var key: String { "churn" }

  /// `churn cost per flavor`.
  public var title: String { "churn cost per flavor" }

  /// Measures every flavor with 1 reader and with `cores`, in paired rounds: a round runs
  /// every flavor's pair at each reader count, flavors in rotated order, and each round
  /// alternates which of the pair runs first, so that drift hits all alike. While a target
  /// is unsettled, more rounds run memb and qsbr, the flavors the targets compare.
  public func measure(_ settings: BenchSettings) throws -> [Cell] {
    let readerCounts = Set([1, settings.cores]).sorted()
    let judged = settings.flavors.filter { $0 == .memb || $0 == .qsbr }
    var pairs: [Int: [BenchFlavor: [PairRuns]]] = [:]
    _ = try resolvingRounds(settings, title: title) { round in
      let flavors = round < settings.rounds || judged.isEmpty ? settings.flavors : judged
      for readers in readerCounts {
        for offset in flavors.indices {
          let flavor = flavors[(round + offset) % flavors.count]
          let pair = try flavor.run(
            ChurnPair(
              readers: readers, entries: Self.entries, seconds: settings.seconds,
              quietFirst: round % 2 == 0))
          flavor.barrier()
          precondition(
            pair.quiet.unclaimed == 0 && pair.churned.unclaimed == 0,
            "a churn-cost dispatch went unclaimed")
          pairs[readers, default: [:]][flavor, default: []].append(pair)
        }
      }
    } resolved: { _ in
      judge(cells(pairs, settings), settings: settings).allSatisfy(\.isSettled)
    }
    return cells(pairs, settings)
  }

  /// The table size every run uses.
  private static let entries = 64

  /// One pair of runs: without the writer, and with it.
  private typealias PairRuns = (quiet: ReadRun, churned: ReadRun)

  /// A cell per reader count and flavor of `pairs`, each with its rounds in order.
  private func cells(_ pairs: [Int: [BenchFlavor: [PairRuns]]], _ settings: BenchSettings)
    -> [Cell]
  {
    pairs.keys.sorted().flatMap { readers in
      settings.flavors.compactMap { flavor -> Cell? in
        guard let runs = pairs[readers]?[flavor] else { return nil }
        return Cell(
          flavor: flavor, entries: Self.entries, readers: readers,
          quiet: Spread(runs.map(\.quiet.throughput)),
          churned: Spread(runs.map(\.churned.throughput)),
          updatesPerSecond: Spread(runs.map(\.churned.updatesPerSecond)),
          loss: Spread(runs.map { 1 - $0.churned.throughput / $0.quiet.throughput }),
          unregister: SampleSummary(nanos: runs.flatMap(\.churned.unregisterNanos)))
      }
    }
  }

  /// A table, readers then flavors.
  public func render(_ cells: [Cell]) -> String {
    guard !cells.isEmpty else { return "" }
    var text = ReportText(
      heading: "CHURN COST PER FLAVOR (64 entries, busy readers; Mdisp/s all readers, median of "
        + "rounds;",
      "loss = median over rounds of 1 - with/without, each round's pair back to back)")
    let columns: [TextColumn] = [
      .left(8), .right(8), .right(9), .right(9), .right(8), .right(18), .right(8), .right(11),
      .right(9),
    ]
    text.row(
      columns, "flavor", "readers", "without", "1000/s", "loss", "range", "upd/s", "unreg p50",
      "p99 us")
    for cell in cells.sorted(by: { ($0.readers, $0.flavor.order) < ($1.readers, $1.flavor.order) })
    {
      text.row(
        columns, cell.flavor.rawValue, "\(cell.readers)", fixed(cell.quiet.median / 1e6, 1),
        fixed(cell.churned.median / 1e6, 1), fixed(cell.loss.median * 100, 1) + "%",
        "[\(fixed(cell.loss.min * 100, 1))..\(fixed(cell.loss.max * 100, 1))%]",
        fixed(cell.updatesPerSecond.median, 0), micros(cell.unregister.median),
        micros(cell.unregister.p99))
    }
    return text.text
  }

  /// qsbr's readers lose at most 3% alone, and at most half of memb's loss on every core;
  /// each judged on its rounds (a round's pairs ran side by side).
  public func judge(_ cells: [Cell], settings: BenchSettings) -> [TargetVerdict] {
    func cell(_ flavor: BenchFlavor, readers: Int) -> Cell? {
      cells.first { $0.flavor == flavor && $0.readers == readers }
    }
    func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
    var verdicts: [TargetVerdict] = []
    if let qsbr = cell(.qsbr, readers: 1) {
      let loss = qsbr.loss.median
      verdicts.append(
        Target(
          "1 reader, 64 entries: churn at 1000/s costs qsbr readers <= 3%", .atMost(0.03),
          margin: 0.03
        ).judge(
          rounds: qsbr.loss.samples,
          figure: "\(percent(loss)) lost (median of \(qsbr.loss.samples.count) rounds; memb: "
            + "\(cell(.memb, readers: 1).map { percent($0.loss.median) } ?? "-"))"))
    }
    let cores = settings.cores
    if let qsbr = cell(.qsbr, readers: cores), let memb = cell(.memb, readers: cores) {
      // A round's qsbr loss against half of the same round's memb loss.
      let excess = zip(qsbr.loss.samples, memb.loss.samples).map { $0 - $1 / 2 }
      verdicts.append(
        Target(
          "\(cores) readers on \(cores) cores: churn costs qsbr <= half of memb's loss",
          .atMost(0), margin: 0.02
        ).judge(
          rounds: excess,
          figure: "qsbr \(percent(qsbr.loss.median)) vs memb \(percent(memb.loss.median)) lost, "
            + "qsbr's minus half of memb's \(fixed(Spread(excess).median * 100, 1)) points per round "
            + "(writer \(Int(qsbr.updatesPerSecond.median)) vs "
            + "\(Int(memb.updatesPerSecond.median)) updates/s)"))
    }
    return verdicts
  }

  /// A table of every cell, and the loss per flavor as bars.
  public func figures(_ cells: [Cell], settings: BenchSettings) -> SectionFigures {
    guard !cells.isEmpty else { return SectionFigures() }
    let sorted = cells.sorted { ($0.readers, $0.flavor.order) < ($1.readers, $1.flavor.order) }
    let table = FigureTable(
      title:
        "Churn cost per flavor, 64 entries, busy readers (million dispatches/s, all readers)",
      columns: [
        "flavor", "readers", "without writer", "writer at 1000/s",
        "loss (median of rounds, min..max)",
        "updates/s", "unregister p50 / p99 us",
      ],
      rows: sorted.map { cell in
        [
          cell.flavor.rawValue, "\(cell.readers)", fixed(cell.quiet.median / 1e6, 1),
          fixed(cell.churned.median / 1e6, 1),
          "\(fixed(cell.loss.median * 100, 1))% "
            + "(\(fixed(cell.loss.min * 100, 1))..\(fixed(cell.loss.max * 100, 1))%)",
          fixed(cell.updatesPerSecond.median, 0),
          "\(micros(cell.unregister.median)) / \(micros(cell.unregister.p99))",
        ]
      })
    let panel = FlavorChart.bars(
      cells, title: "Churn cost, 64 entries",
      yLabel: "readers' throughput lost to 1000 updates/s (%)", flavor: \.flavor,
      groups: Set(cells.map(\.readers)).sorted(), group: \.readers,
      label: { "\($0) reader(s)" }, value: { $0.loss.median * 100 })
    return SectionFigures(tables: [table], charts: [FlavorChart.chart(panel)])
  }
}

/// One round's pair on one flavor: no writer, and the writer at 1000 updates/s, on one bus.
private struct ChurnPair: FlavorGenericWork {
  let readers: Int
  let entries: Int
  let seconds: Double
  let quietFirst: Bool

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> (quiet: ReadRun, churned: ReadRun) {
    let target = try BusTarget<Flavor>(entries: entries)
    func measure(_ churn: Churn) throws -> ReadRun {
      try measureReads(target, threads: readers, entries: entries, churn: churn, seconds: seconds)
    }
    if quietFirst {
      let quiet = try measure(.none)
      return (quiet, try measure(.rate1000))
    }
    let churned = try measure(.rate1000)
    return (try measure(.none), churned)
  }
}
