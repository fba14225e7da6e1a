/// Summary of many single-operation latencies, in nanoseconds (in JSON, a figure of no
/// latencies is `null`).
public struct SampleSummary: Codable, Sendable, Equatable {
  /// How many operations were timed.
  public var count: Int
  /// The mean; NaN without samples (likewise below).
  @FiniteOrNull public var mean: Double
  /// The upper median (the element at `count / 2` of the sorted samples).
  @FiniteOrNull public var median: Double
  /// The 99th percentile (nearest rank, rounded down).
  @FiniteOrNull public var p99: Double
  /// The fastest operation.
  @FiniteOrNull public var min: Double
  /// The slowest operation.
  @FiniteOrNull public var max: Double
  /// The sum of every operation's time.
  @FiniteOrNull public var total: Double

  /// Summarizes the latencies `nanos`.
  public init(nanos: [UInt64]) {
    let sorted = nanos.sorted().map { Double($0) }
    let total = sorted.reduce(0, +)
    count = sorted.count
    self.total = total
    mean = count == 0 ? .nan : total / Double(count)
    median = count == 0 ? .nan : sorted[count / 2]
    p99 = count == 0 ? .nan : sorted[Swift.min(count - 1, Int(Double(count) * 0.99))]
    self.min = sorted.first ?? .nan
    self.max = sorted.last ?? .nan
  }
}
