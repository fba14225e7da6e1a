import CURCU

/// liburcu's "mb" flavor: every read_lock and read_unlock issues a full memory barrier, so
/// the writer needs no `sys_membarrier` and no signal.
///
/// Mainly for checking: its read side is tens of times slower than ``MembRCU``'s, but its
/// ordering is the simplest to reason about, which makes it a reference when a check
/// fails on another flavor. Readers register themselves on their first read-side section
/// and are unregistered when they exit. Every call is a library call (not inlined).
public enum MemoryBarrierRCU: RCUFlavor {
  public static var name: String { "mb" }

  public static func registerCurrentThread() { curcu_mb_register_thread() }

  public static func unregisterCurrentThread() { curcu_mb_unregister_thread() }

  public static func readLock() { curcu_mb_read_lock() }

  public static func readUnlock() { curcu_mb_read_unlock() }

  public static var isInReadSection: Bool { curcu_mb_read_ongoing() }

  public static func synchronize() { curcu_mb_synchronize() }

  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    reclaimer.enqueue(work)
  }

  public static func barrier() {
    requireOutsideReadSection("barrier()")
    reclaimer.barrier()
  }

  private static let reclaimer = Reclaimer(name: name, synchronize: synchronize)
}
