import CURCU

/// liburcu's default flavor, "memb": a read-side section is a thread-local counter update
/// and compiler barriers; writers pay for the memory barriers with `sys_membarrier`.
///
/// This is the flavor a VMM wants: readers (vCPU threads) are many and hot, writers
/// (hotplug) are rare.
public enum MembRCU: RCUFlavor {
  public static var name: String { "memb" }

  public static func registerCurrentThread() { curcu_memb_register_thread() }

  public static func unregisterCurrentThread() { curcu_memb_unregister_thread() }

  @inlinable @inline(__always)
  public static func readLock() { curcu_memb_read_lock() }

  @inlinable @inline(__always)
  public static func readUnlock() { curcu_memb_read_unlock() }

  public static var isInReadSection: Bool { curcu_memb_read_ongoing() }

  public static func synchronize() {
    checkTSanConfiguration()
    curcu_memb_synchronize()
  }

  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    checkTSanConfiguration()
    deferWork(work, enqueue: { curcu_memb_defer($0, $1) }, synchronize: synchronize)
  }

  public static func barrier() { curcu_memb_barrier() }
}
