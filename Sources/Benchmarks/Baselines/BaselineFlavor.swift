import RCU

// The baselines as RCUFlavor conformances: IOBus<Flavor> keeps the same table, the same
// lookup and the same device call, and only the read-side synchronization changes.
//
// Each flavor guards the one bus under test with a process-wide lock, because flavor
// requirements are static; the benchmark never runs two buses of one flavor at once.

/// A baseline design as a flavor: a reader holds a lock shared around every lookup and device
/// call, and a grace period is taking it exclusively once, which waits for every reader that
/// holds the old table. Deferred work waits for that grace period on the caller's thread.
protocol BaselineFlavor: RCUFlavor {
  /// Takes the lock shared, around one dispatch.
  static func lockShared()
  /// Lets go of a shared hold.
  static func unlockShared()
  /// Takes the lock exclusively: every reader is out.
  static func lockExclusive()
  /// Lets go of the exclusive hold.
  static func unlockExclusive()
}

extension BaselineFlavor {
  static func registerCurrentThread() {}
  static func unregisterCurrentThread() {}
  @inline(__always) static func readLock() { lockShared() }
  @inline(__always) static func readUnlock() { unlockShared() }
  static var isInReadSection: Bool { false }

  static func synchronize() {
    lockExclusive()
    unlockExclusive()
  }

  static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    synchronize()
    work()
  }

  static func barrier() {}
}
