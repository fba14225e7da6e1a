import CURCU

/// liburcu's default flavor, "memb": a read-side section is a thread-local counter update
/// and compiler barriers; writers pay for the memory barriers with `sys_membarrier`.
///
/// The flavor to pick unless you know better: readers on any thread (vCPU threads, Dispatch
/// and Swift concurrency workers), which register themselves on their first read-side
/// section and are unregistered when they exit. Its cost is on the writer's side: each
/// grace period sends a membarrier IPI to every CPU running the process. For vCPU threads
/// that have natural quiescent points (every `KVM_RUN`), ``QSBRRCU`` avoids that.
public enum MembRCU: LiburcuFlavor {
  public static var name: String { "memb" }

  public static func registerCurrentThread() { curcu_memb_register_thread() }

  public static func unregisterCurrentThread() { curcu_memb_unregister_thread() }

  @inlinable @inline(__always)
  public static func readLock() { curcu_memb_read_lock() }

  @inlinable @inline(__always)
  public static func readUnlock() { curcu_memb_read_unlock() }

  public static var isInReadSection: Bool { curcu_memb_read_ongoing() }

  static func waitForGracePeriod() { curcu_memb_synchronize() }

  /// No: liburcu's memb synchronize would wait for the caller's own section.
  static var gracePeriodChecksReadSection: Bool { false }

  static var inlinesReadSide: Bool { true }

  static let reclaimer = Reclaimer(name: name, synchronize: synchronize)
}
