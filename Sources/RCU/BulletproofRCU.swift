import CURCU

/// liburcu's "bp" (bulletproof) flavor: readers register themselves on their first
/// read-side section and are unregistered at thread exit, with no cooperation at all.
///
/// Pick it for readers on threads you do not control (a library called from arbitrary
/// threads, possibly from thread-exit destructors). Reads and grace periods cost slightly
/// more than ``MembRCU``'s; it also checks that the bus does not depend on one flavor's
/// quirks.
public enum BulletproofRCU: RCUFlavor {
  public static var name: String { "bp" }

  public static func registerCurrentThread() { curcu_bp_register_thread() }

  public static func unregisterCurrentThread() { curcu_bp_unregister_thread() }

  @inlinable @inline(__always)
  public static func readLock() { curcu_bp_read_lock() }

  @inlinable @inline(__always)
  public static func readUnlock() { curcu_bp_read_unlock() }

  public static var isInReadSection: Bool { curcu_bp_read_ongoing() }

  public static func synchronize() {
    requireOutsideReadSection("synchronize()")
    checkTSanConfiguration()
    curcu_bp_synchronize()
  }

  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    checkTSanConfiguration()
    reclaimer.enqueue(work)
  }

  public static func barrier() {
    requireOutsideReadSection("barrier()")
    reclaimer.barrier()
  }

  private static let reclaimer = Reclaimer(name: name, synchronize: synchronize)
}
