/// How long an unregister takes to release its device on an idle bus (no reader running),
/// three ways (synchronous, deferred, async), at two paces, flavor by flavor.
public struct ReclamationSection: BenchSection {
  /// One flavor at one pace.
  public struct Cell: Codable, Sendable, Equatable {
    /// The flavor.
    public var flavor: BenchFlavor
    /// When the unregisters came.
    public var pace: ReleasePace
    /// `unregister(_:)`: until it returns (publish, grace period, release).
    public var synchronous: SampleSummary
    /// `unregister(_:whenReleased:)`: from the call until the closure runs.
    public var deferred: SampleSummary
    /// `unregisterAndAwaitRelease(_:)`: from the call until the awaiting task resumes.
    public var async: SampleSummary
    /// Deferred over synchronous, one sample per round (a chunk of each kind, the kinds
    /// alternating): the ratio of the chunks' medians. Nil in reports older than it.
    public var deferredOverSynchronous: Spread?
    /// Async over synchronous, likewise.
    public var asyncOverSynchronous: Spread?
  }

  /// Unregisters of each kind per flavor and pace; nil for 1000 (150 with `quick`).
  public var count: Int?

  /// The section, timing `count` unregisters of each kind.
  public init(count: Int? = nil) { self.count = count }

  /// `reclamation`.
  public var key: String { "reclamation" }

  /// `reclamation latency`.
  public var title: String { "reclamation latency" }

  /// Unregisters per chunk: kinds alternate chunk by chunk.
  private static let chunk = 50

  /// Measures every kind at each pace on every flavor, in chunks of 50 that alternate
  /// between kinds, each chunk on a fresh bus.
  public func measure(_ settings: BenchSettings) throws -> [Cell] {
    let count = self.count ?? (settings.quick ? 150 : 1000)
    let chunk = Self.chunk
    return try ReleasePace.allCases.flatMap { pace in
      try settings.flavors.map { flavor in
        let chunks = try interleavedRounds(
          ReleaseWait.allCases, rounds: (count + chunk - 1) / chunk
        ) { wait, round in
          try flavor.run(
            ReleaseLatencies(
              wait: wait, pace: pace, operations: min(chunk, count - round * chunk)))
        }
        flavor.barrier()
        let times = chunks.map { SampleSummary(nanos: $0.flatMap { $0 }) }
        // Per round, a kind's chunk median over the synchronous chunk's.
        let medians = chunks.map { $0.map { SampleSummary(nanos: $0).median } }
        func overSynchronous(_ kind: Int) -> Spread {
          Spread(zip(medians[kind], medians[0]).map { $0 / $1 })
        }
        return Cell(
          flavor: flavor, pace: pace, synchronous: times[0], deferred: times[1], async: times[2],
          deferredOverSynchronous: overSynchronous(1), asyncOverSynchronous: overSynchronous(2))
      }
    }
  }

  /// A table of p50 and p99 per kind, with the ratios to synchronous.
  public func render(_ cells: [Cell]) -> String {
    guard !cells.isEmpty else { return "" }
    var text = ReportText(
      heading: "RECLAMATION LATENCY, IDLE BUS (no readers; us, p50 / p99; in-a-row: 50 "
        + "unregisters, each waited for before the next;",
      "cold: each after \(ReleasePace.idleMicroseconds) us of idle time, every reclaimer thread "
        + "asleep)")
    let columns: [TextColumn] = [
      .left(8), .left(10), .right(16), .right(16), .right(16), .right(15), .right(12),
    ]
    text.row(
      columns, "flavor", " pace", "synchronous", "deferred", "async", "deferred/sync",
      "async/sync")
    for cell in cells {
      let sync = cell.synchronous.median
      text.row(
        columns, cell.flavor.rawValue, " " + cell.pace.rawValue, percentiles(cell.synchronous),
        percentiles(cell.deferred), percentiles(cell.async),
        fixed(cell.deferred.median / sync) + "x", fixed(cell.async.median / sync) + "x")
    }
    text.line(
      "(synchronous: until unregister returns; deferred: until the whenReleased closure "
        + "starts; async: until the awaiting task resumes)")
    return text.text
  }

  /// On every flavor and pace, deferred and async unregisters release within twice the
  /// synchronous time (p50).
  public func judge(_ cells: [Cell], settings: BenchSettings) -> [TargetVerdict] {
    cells.map { cell in
      let sync = cell.synchronous.median
      let deferred = cell.deferred.median / sync
      let async = cell.async.median / sync
      let target = Target(
        "idle bus, \(cell.pace.rawValue), \(cell.flavor.rawValue): deferred and async "
          + "unregister p50 <= 2x synchronous", .atMost(2))
      // Per round (a chunk of each kind), the slower kind's ratio.
      let rounds = zip(
        cell.deferredOverSynchronous?.samples ?? [], cell.asyncOverSynchronous?.samples ?? []
      ).map { max($0, $1) }
      let figure = String(
        format: "deferred %.2fx, async %.2fx (%.1f, %.1f vs %.1f us)", deferred, async,
        cell.deferred.median / 1000, cell.async.median / 1000, sync / 1000)
      return rounds.isEmpty
        ? target.judge(max(deferred, async), figure: figure)
        : target.judge(rounds: rounds, figure: figure + ", per round of \(Self.chunk)")
    }
  }

  /// A table of every cell, and the slower ratio per flavor as bars.
  public func figures(_ cells: [Cell], settings: BenchSettings) -> SectionFigures {
    guard !cells.isEmpty else { return SectionFigures() }
    let table = FigureTable(
      title: "Reclamation latency on an idle bus (us, p50 / p99)",
      columns: [
        "flavor", "pace", "synchronous", "deferred (closure runs)", "async (caller resumes)",
        "deferred / sync", "async / sync",
      ], labels: 2,
      rows: cells.map { cell in
        let sync = cell.synchronous.median
        return [
          cell.flavor.rawValue, cell.pace.rawValue, percentiles(cell.synchronous),
          percentiles(cell.deferred), percentiles(cell.async),
          fixed(cell.deferred.median / sync) + "x", fixed(cell.async.median / sync) + "x",
        ]
      })
    let panel = FlavorChart.bars(
      cells, title: "Reclamation latency, idle bus",
      yLabel: "slower of deferred / async p50, over synchronous p50", guide: 2,
      flavor: \.flavor, groups: ReleasePace.allCases, group: \.pace, label: \.rawValue,
      value: { max($0.deferred.median, $0.async.median) / $0.synchronous.median })
    return SectionFigures(tables: [table], charts: [FlavorChart.chart(panel)])
  }

  /// `p50 / p99` in microseconds.
  private func percentiles(_ summary: SampleSummary) -> String {
    "\(micros(summary.median)) / \(micros(summary.p99))"
  }
}
