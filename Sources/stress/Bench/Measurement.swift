import HostSupport
import Glibc

/// Nanoseconds on `CLOCK_MONOTONIC`.
@inline(__always)
func monotonicNanos() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// CPU time the calling thread has used, in nanoseconds.
@inline(__always)
func threadCPUNanos() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
  return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// Sleeps until the monotonic clock reads `deadline` nanoseconds.
func sleep(untilNanos deadline: UInt64) {
  var time = timespec(
    tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
  while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
}

/// The median and range of repeated measurements of one quantity.
struct Spread: Codable, Sendable {
  var median: Double
  var min: Double
  var max: Double
  var samples: [Double]

  init(_ samples: [Double]) {
    let sorted = samples.sorted()
    self.samples = samples
    min = sorted.first ?? .nan
    max = sorted.last ?? .nan
    if sorted.isEmpty {
      median = .nan
    } else if sorted.count % 2 == 1 {
      median = sorted[sorted.count / 2]
    } else {
      median = (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
  }
}

/// Summary of many single-operation latencies, in nanoseconds.
struct SampleSummary: Codable, Sendable {
  var count: Int
  var mean: Double
  var median: Double
  var p99: Double
  var min: Double
  var max: Double
  var total: Double

  init(nanos: [UInt64]) {
    let sorted = nanos.sorted().map { Double($0) }
    count = sorted.count
    total = sorted.reduce(0, +)
    mean = count == 0 ? .nan : total / Double(count)
    median = count == 0 ? .nan : sorted[count / 2]
    p99 = count == 0 ? .nan : sorted[Swift.min(count - 1, Int(Double(count) * 0.99))]
    self.min = sorted.first ?? .nan
    self.max = sorted.last ?? .nan
  }
}
