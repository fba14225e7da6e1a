/// No synchronization at all: the floor, a baseline whose lock is no lock. Only sound while
/// nothing is registered or unregistered during the reads, so the benchmark runs it without
/// churn only.
enum UnsynchronizedFlavor: BaselineFlavor {
  static var name: String { "none" }
  @inline(__always) static func lockShared() {}
  @inline(__always) static func unlockShared() {}
  static func lockExclusive() {}
  static func unlockExclusive() {}
}
