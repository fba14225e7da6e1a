/// The read side: every design at every table size, reader thread count and churn, side by
/// side; the result is one ``ReadCell`` per configuration.
///
/// A row of its tables is a design (``Design``, with its bus in ``DesignTargets``). Its
/// targets are judged by ``ReadTargetsSection``, on paired rounds of their own.
public struct ReadSideSection: BenchSection {
  /// The section.
  public init() {}

  /// `read`.
  public var key: String { "read" }

  /// `read side`.
  public var title: String { "read side" }

  /// Measures every configuration `settings` name, table size by table size. Designs alternate
  /// within each round so that drift (frequency, other load) hits them all alike.
  public func measure(_ settings: BenchSettings) throws -> [ReadCell] {
    var cells: [ReadCell] = []
    for entries in settings.sizes {
      cells += try measureTableSize(entries, settings)
      settings.progress("read side: \(entries) entries done")
    }
    return withRatios(cells)
  }

  private func measureTableSize(_ entries: Int, _ settings: BenchSettings) throws -> [ReadCell] {
    let targets = try DesignTargets(entries: entries)
    var cells: [ReadCell] = []
    for churn in Churn.allCases {
      // The floor has no grace period: a writer would free tables under its readers.
      let designs = settings.designs.filter { churn == .none || $0 != .floor }
      for threads in settings.threadCounts {
        let runs = try interleavedRounds(designs, rounds: settings.rounds) { design, _ in
          try targets.measure(design, threads: threads, churn: churn, seconds: settings.seconds)
        }
        for (design, runs) in zip(designs, runs) {
          cells.append(
            ReadCell(design: design, entries: entries, threads: threads, churn: churn, runs: runs))
        }
      }
    }
    targets.barrier()
    return cells
  }

  /// Fills in each cell's slowdown against the floor and against the RCU bus on memb.
  private func withRatios(_ cells: [ReadCell]) -> [ReadCell] {
    cells.map { cell in
      var cell = cell
      if let floor = cells.cell(.floor, entries: cell.entries, threads: cell.threads) {
        cell.slowdownVsFloor = floor.throughput.median / cell.throughput.median
      }
      if let memb = cells.cell(
        .memb, entries: cell.entries, threads: cell.threads, churn: cell.churn)
      {
        cell.slowdownVsRCU = memb.throughput.median / cell.throughput.median
      }
      return cell
    }
  }

  /// None: the read side's targets are judged on paired rounds of their own
  /// (``ReadTargetsSection``); these tables describe every configuration.
  public func judge(_ read: [ReadCell], settings: BenchSettings) -> [TargetVerdict] { [] }
}
