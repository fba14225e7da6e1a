import Glibc

/// The process's descriptor limit (RLIMIT_NOFILE), which every run budgets its eventfds,
/// pollers and rings against before it starts.
enum DescriptorLimit {
  /// The most descriptors this process may have open once ``raise()`` has run: the hard
  /// limit (the soft one can be raised to it without privilege).
  static var available: Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    // RLIM_INFINITY is all ones; any limit past Int32.max is as good as none.
    return Int(clamping: min(UInt64(limit.rlim_max), UInt64(Int32.max)))
  }

  /// Raises the soft limit to the hard one, so that ``available`` is what the process
  /// really has.
  static func raise() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max
    else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
  }

  /// Descriptors any run keeps apart for what is not budgeted item by item: standard
  /// streams, `/proc` reads, the JSON report, liburcu, the crash guard.
  static let reserve = 64
}
