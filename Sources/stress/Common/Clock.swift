import Foundation
import Glibc

/// Monotonic nanoseconds (vDSO, no system call), for timestamps shared across threads.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// The process's peak resident set size, in bytes.
func peakResidentBytes() -> UInt64 {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return UInt64(usage.ru_maxrss) * 1024
}

/// The process's current resident set size, in bytes (from /proc/self/statm).
func currentResidentBytes() -> UInt64 {
  guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
  let fields = statm.split(separator: " ")
  guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
  return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
}
