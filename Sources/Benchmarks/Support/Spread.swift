/// The median and range of repeated measurements of one quantity (one sample per round),
/// with every sample kept for the JSON report (where a figure of no samples is `null`).
public struct Spread: Codable, Sendable, Equatable {
  /// The median (the mean of the middle two for an even count); NaN without samples.
  @FiniteOrNull public var median: Double
  /// The smallest sample; NaN without samples.
  @FiniteOrNull public var min: Double
  /// The largest sample; NaN without samples.
  @FiniteOrNull public var max: Double
  /// Every sample, in the order measured.
  public var samples: [Double]

  /// Summarizes `samples`.
  public init(_ samples: [Double]) {
    let sorted = samples.sorted()
    self.samples = samples
    min = sorted.first ?? .nan
    max = sorted.last ?? .nan
    median = sorted.isEmpty ? .nan : Self.median(ofSorted: sorted)
  }

  /// The median of sorted, non-empty `values`: the middle one, or the mean of the middle two.
  static func median(ofSorted values: [Double]) -> Double {
    let middle = values.count / 2
    return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
  }
}
