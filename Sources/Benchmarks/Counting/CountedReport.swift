/// Counted costs per operation of a set of workloads, as `Scripts/count.sh` prints them and
/// as the committed baseline (`docs/bench/count-baseline.json`) holds them.
public struct CountedReport: Codable, Sendable, Equatable {
  /// One workload's counted cost.
  public struct Row: Codable, Sendable, Equatable {
    /// The workload.
    public var work: CountedWork
    /// What one operation of it costs.
    public var cost: CountedCost

    /// The row of `work`, costing `cost`.
    public init(work: CountedWork, cost: CountedCost) {
      self.work = work
      self.cost = cost
    }
  }

  /// The simulated cache geometry the misses were counted with (valgrind's options).
  public var cacheGeometry: [String]
  /// The rows, in the order counted.
  public var rows: [Row]

  /// A report of `rows`, counted with `cacheGeometry`.
  public init(rows: [Row], cacheGeometry: [String] = Callgrind.cacheGeometry) {
    self.rows = rows
    self.cacheGeometry = cacheGeometry
  }

  /// `work`'s cost, if it was counted.
  public func cost(of work: CountedWork) -> CountedCost? {
    rows.first { $0.work == work }?.cost
  }

  /// The same report with every count of instructions multiplied by `factor`: a baseline
  /// edited on purpose, for showing that the regression gate fails.
  public func scalingInstructions(by factor: Double) -> CountedReport {
    var report = self
    for index in report.rows.indices { report.rows[index].cost.instructions *= factor }
    return report
  }

  /// The table: one row per workload, with a dispatch's instructions over the floor's at
  /// the same table size. Mispredicts are in the JSON only: the simulated predictor begins
  /// the loop in whatever state the set-up left, and a branch whose outcomes alternate can
  /// lock into mispredicting every time or never, a whole mispredict per operation apart
  /// from one run to the next.
  public var text: String {
    var text = ReportText(
      heading:
        "COUNTED COST PER OPERATION (valgrind callgrind, in the probe's loop: the difference "
        + "between a run of 2N operations and one of N, divided by N;",
      "simulated caches \(cacheGeometry.joined(separator: " ")), evicted before the loop; "
        + "exact, the same on every run)")
    let columns: [TextColumn] = [
      .left(16), .right(10), .right(11), .right(10), .right(10), .right(10), .right(10),
    ]
    text.row(columns, "work", "instr", "over floor", "branches", "D refs", "D1 miss", "LL miss")
    for row in rows {
      let cost = row.cost
      text.row(
        columns, row.work.description, Self.figure(cost.instructions),
        overFloor(row).map(Self.figure) ?? "", Self.figure(cost.branches),
        Self.figure(cost.dataAccesses), Self.figure(cost.level1DataMisses),
        Self.figure(cost.lastLevelMisses))
    }
    return text.text
  }

  /// A count per operation with two decimals; a difference of about 0 prints as "0.00",
  /// never "-0.00".
  static func figure(_ value: Double) -> String {
    fixed((value * 100).rounded() / 100 + 0)
  }

  /// A dispatch row's instructions over the floor's at its table size, when both were counted.
  public func overFloor(_ row: Row) -> Double? {
    guard case .dispatch(let design, let entries) = row.work, design != .floor,
      let floor = cost(of: .dispatch(.floor, entries: entries))
    else { return nil }
    return row.cost.instructions - floor.instructions
  }
}
