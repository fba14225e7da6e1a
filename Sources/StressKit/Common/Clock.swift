import Foundation
import Glibc
import HostSupport

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

/// The process's current resident set size, in bytes (from /proc/self/statm), measured
/// after asking glibc to give free heap memory back to the kernel (`malloc_trim`): a soak
/// compares live memory, and memory the allocator keeps cached after a burst is not a leak.
func currentResidentBytes() -> UInt64 {
  trimHeap()
  guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else {
    return 0
  }
  let fields = statm.split(separator: " ")
  guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
  return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
}

/// glibc's `malloc_trim(0)`, which Swift's Glibc module does not export; looked up by name
/// so it is called with the C calling convention.
private func trimHeap() {
  typealias MallocTrim = @convention(c) (Int) -> Int32
  guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
  // Safe: glibc declares `int malloc_trim(size_t pad)`, which is exactly MallocTrim.
  _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
}
