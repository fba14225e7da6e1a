/// Median, minimum and maximum of several repeats.
public struct RepeatSummary: Sendable, Hashable, Codable {
  /// The median (the mean of the middle two for an even count).
  public var median: Double
  /// The smallest sample.
  public var min: Double
  /// The largest sample.
  public var max: Double
  /// Every sample, one per repeat, in order: a target judged on them gets an interval.
  public var samples: [Double]

  /// Summarizes `samples` (at least one).
  public init(_ samples: [Double]) {
    self.samples = samples
    let sorted = samples.sorted()
    median = Spread.median(ofSorted: sorted)
    min = sorted.first!
    max = sorted.last!
  }
}
