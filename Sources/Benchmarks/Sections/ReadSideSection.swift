/// The read side: every design at every table size, reader thread count and churn, side by
/// side; the result is one ``ReadCell`` per configuration.
///
/// A row of its tables is a design (``Design``, with its bus in ``DesignTargets``); a target
/// is a line in ``judge(_:settings:)``.
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

  /// The read-side targets, those whose cells were measured.
  public func judge(_ read: [ReadCell], settings: BenchSettings) -> [TargetVerdict] {
    var verdicts: [TargetVerdict] = []
    if let floor = read.cell(.floor, entries: 64, threads: 1) {
      for (design, limit) in [(Design.memb, 1.2), (.qsbr, 1.02)] {
        guard let bus = read.cell(design, entries: 64, threads: 1) else { continue }
        verdicts.append(
          costRatio(
            bus, over: floor,
            Target(
              "1 thread, 64 entries: RCU bus (\(design.rawValue)) <= \(limit)x the floor",
              .atMost(limit))))
      }
    }
    if let one = read.cell(.memb, entries: 64, threads: 1),
      let two = read.cell(.memb, entries: 64, threads: 2)
    {
      let scaling = two.throughput.median / one.throughput.median
      verdicts.append(
        Target(
          "2 threads, 64 entries: RCU bus (memb) >= 1.9x its 1-thread throughput", .atLeast(1.9)
        ).judge(scaling, figure: "\(fixed(scaling))x"))
      for other in [Design.rwlock, .swapped] {
        guard let cell = read.cell(other, entries: 64, threads: 2) else { continue }
        let ratio = two.throughput.median / cell.throughput.median
        verdicts.append(
          Target("2 threads, 64 entries: RCU bus (memb) >= 15x \(other.label)", .atLeast(15))
            .judge(ratio, figure: "\(fixed(ratio))x"))
      }
    }
    if let small = read.cell(.memb, entries: 16, threads: 1),
      let large = read.cell(.memb, entries: 10000, threads: 1)
    {
      verdicts.append(
        costRatio(
          large, over: small,
          Target(
            "1 thread: RCU bus (memb) at 10000 entries <= 2.5x its 16-entry cost", .atMost(2.5))))
    }
    for threads in [1, 2] {
      guard let quiet = read.cell(.memb, entries: 64, threads: threads),
        let churned = read.cell(.memb, entries: 64, threads: threads, churn: .rate1000)
      else { continue }
      let loss = 1 - churned.throughput.median / quiet.throughput.median
      verdicts.append(
        Target(
          "\(threads) thread(s), 64 entries: churn at 1000/s costs memb readers <= 5%",
          .atMost(0.05)
        ).judge(loss, figure: "\(fixed(loss * 100))% lost"))
    }
    return verdicts
  }

  /// `target` judged on `cell`'s CPU time per dispatch over `base`'s.
  private func costRatio(_ cell: ReadCell, over base: ReadCell, _ target: Target) -> TargetVerdict {
    let (cost, baseCost) = (cell.nanosPerDispatch.median, base.nanosPerDispatch.median)
    let ratio = cost / baseCost
    return target.judge(
      ratio, figure: "\(fixed(ratio))x (\(fixed(cost)) vs \(fixed(baseCost)) ns)")
  }
}
