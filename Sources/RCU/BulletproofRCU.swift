import CURCU

/// liburcu's "bp" (bulletproof) flavor: readers register themselves on their first
/// read-side section and are unregistered at thread exit. Slightly slower reads than
/// ``MembRCU``; useful to check that the bus does not depend on one flavor's quirks.
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
    checkTSanConfiguration()
    curcu_bp_synchronize()
  }

  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    checkTSanConfiguration()
    deferWork(work, enqueue: { curcu_bp_defer($0, $1) }, synchronize: synchronize)
  }

  public static func barrier() { curcu_bp_barrier() }
}
