import Foundation
import Histogram
import HostSupport

/// Percentiles of a latency histogram, in nanoseconds.
public struct LatencySummary: Codable, Sendable {
  let count: UInt64
  let p50Nanoseconds: UInt64
  let p99Nanoseconds: UInt64
  let maxNanoseconds: UInt64

  init(_ histogram: Histogram<UInt64>) {
    count = histogram.totalCount
    p50Nanoseconds = count == 0 ? 0 : histogram.valueAtPercentile(50)
    p99Nanoseconds = count == 0 ? 0 : histogram.valueAtPercentile(99)
    maxNanoseconds = count == 0 ? 0 : histogram.max
  }

  /// "p50 17 us, p99 120 us, max 2.1 ms (n=1234)".
  var text: String {
    count == 0
      ? "none measured"
      : "p50 \(format(p50Nanoseconds)), p99 \(format(p99Nanoseconds)), max \(format(maxNanoseconds)) (n=\(count))"
  }
}

/// A duration in the unit that reads best.
func format(_ nanoseconds: UInt64) -> String {
  switch nanoseconds {
  case ..<10_000: return "\(nanoseconds) ns"
  case ..<10_000_000: return "\(nanoseconds / 1000) us"
  default: return String(format: "%.1f ms", Double(nanoseconds) / 1e6)
  }
}
