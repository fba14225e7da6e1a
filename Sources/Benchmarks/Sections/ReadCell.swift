/// One read-side configuration: a design at a table size, thread count and churn.
public struct ReadCell: Codable, Sendable, Equatable {
  /// The design measured.
  public var design: Design
  /// Entries in the table.
  public var entries: Int
  /// Reader threads.
  public var threads: Int
  /// What the writer did meanwhile.
  public var churn: Churn
  /// Dispatches per second, all threads together, one sample per round.
  public var throughput: Spread
  /// CPU nanoseconds per dispatch, one sample per round.
  public var nanosPerDispatch: Spread
  /// Writer updates per second actually achieved.
  public var updatesPerSecond: Spread
  /// How many times the floor's throughput (same size and threads, no churn) exceeds this.
  public var slowdownVsFloor: Double?
  /// How many times the memb RCU bus's throughput (same configuration) exceeds this.
  public var slowdownVsRCU: Double?
  /// Dispatches nobody claimed: must be 0.
  public var unclaimed: Int

  /// The cell of `runs`, one per round, of one configuration; no ratios yet.
  init(design: Design, entries: Int, threads: Int, churn: Churn, runs: [ReadRun]) {
    self.design = design
    self.entries = entries
    self.threads = threads
    self.churn = churn
    throughput = Spread(runs.map(\.throughput))
    nanosPerDispatch = Spread(runs.map(\.nanosPerDispatch))
    updatesPerSecond = Spread(runs.map(\.updatesPerSecond))
    unclaimed = runs.reduce(0) { $0 + $1.unclaimed }
  }
}

extension Array where Element == ReadCell {
  /// The cell for one configuration, if it was measured.
  public func cell(
    _ design: Design, entries: Int, threads: Int, churn: Churn = .none
  ) -> ReadCell? {
    first {
      $0.design == design && $0.entries == entries && $0.threads == threads && $0.churn == churn
    }
  }
}
