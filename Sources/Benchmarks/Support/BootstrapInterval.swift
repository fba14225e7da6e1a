import HostSupport

/// Percentile bootstrap intervals: how far a statistic of a few rounds could move had the
/// rounds come out differently.
enum BootstrapInterval {
  /// Resamples per interval: enough that the 2.5th and 97.5th percentiles move by less than
  /// the figures' last printed digit between seeds.
  static let resamples = 4000

  /// The `level` (95% by default) percentile bootstrap interval of the median of `samples`:
  /// the median of `resamples` resamples with replacement, its lower and upper
  /// `(1 - level) / 2` quantiles. Seeded by the samples themselves, so that the same samples
  /// always give the same interval (a report decoded again is judged again alike). Nil
  /// without samples; one sample is its own interval.
  static func median(of samples: [Double], level: Double = 0.95)
    -> (lower: Double, upper: Double)?
  {
    guard !samples.isEmpty else { return nil }
    guard samples.count > 1 else { return (samples[0], samples[0]) }
    var random = SplitMix64(
      seed: samples.reduce(UInt64(samples.count)) { $0 &* 31 &+ $1.bitPattern })
    var resample = [Double](repeating: 0, count: samples.count)
    var medians: [Double] = []
    medians.reserveCapacity(resamples)
    for _ in 0..<resamples {
      for index in resample.indices {
        resample[index] = samples[Int.random(in: 0..<samples.count, using: &random)]
      }
      resample.sort()
      medians.append(Spread.median(ofSorted: resample))
    }
    medians.sort()
    let tail = (1 - level) / 2
    let lower = medians[Int((tail * Double(resamples)).rounded(.down))]
    let upper = medians[
      Swift.min(resamples - 1, Int(((1 - tail) * Double(resamples)).rounded(.down)))]
    return (lower, upper)
  }
}
