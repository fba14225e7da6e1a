/// One read-side configuration: a design at a table size, reader thread count and churn.
public struct ReadConfiguration: Hashable, Codable, Sendable, CustomStringConvertible {
  /// The design.
  public var design: Design
  /// Entries in the table.
  public var entries: Int
  /// Reader threads.
  public var threads: Int
  /// What the writer does meanwhile.
  public var churn: Churn

  /// `design` at `entries` entries with `threads` readers and `churn`.
  public init(_ design: Design, entries: Int, threads: Int, churn: Churn = .none) {
    self.design = design
    self.entries = entries
    self.threads = threads
    self.churn = churn
  }

  /// `memb, 64 entries, 2 threads, churn 1000/s`.
  public var description: String {
    "\(design.rawValue), \(entries) entries, \(threads) thread\(threads == 1 ? "" : "s")"
      + (churn == .none ? "" : ", churn \(churn.rawValue)")
  }

  /// Whether `settings`' filters let the configuration be measured.
  func isSelected(by settings: BenchSettings) -> Bool {
    settings.designs.contains(design) && settings.sizes.contains(entries)
      && settings.threadCounts.contains(threads)
  }
}

/// One timed run of a configuration in one round.
public struct ReadSample: Codable, Sendable, Equatable {
  /// What was run.
  public var configuration: ReadConfiguration
  /// Dispatches per second, all threads together.
  public var throughput: Double
  /// CPU nanoseconds per dispatch.
  public var nanosPerDispatch: Double
  /// Dispatches nobody claimed: must be 0.
  public var unclaimed: Int
}
