import CURCU

/// liburcu's "bp" (bulletproof) flavor: readers register themselves on their first
/// read-side section and are unregistered at thread exit, with no cooperation at all.
///
/// Pick it for readers on threads you do not control (a library called from arbitrary
/// threads, possibly from thread-exit destructors). Reads and grace periods cost slightly
/// more than ``MembRCU``'s; it also checks that the bus does not depend on one flavor's
/// quirks.
public enum BulletproofRCU: LiburcuFlavor {
  public static var name: String { "bp" }

  public static func registerCurrentThread() { curcu_bp_register_thread() }

  public static func unregisterCurrentThread() { curcu_bp_unregister_thread() }

  @inlinable @inline(__always)
  public static func readLock() { curcu_bp_read_lock() }

  @inlinable @inline(__always)
  public static func readUnlock() { curcu_bp_read_unlock() }

  public static var isInReadSection: Bool { curcu_bp_read_ongoing() }

  static func waitForGracePeriod() { curcu_bp_synchronize() }

  /// No: liburcu's bp synchronize would wait for the caller's own section.
  static var gracePeriodChecksReadSection: Bool { false }

  static var inlinesReadSide: Bool { true }

  static let reclaimer = Reclaimer(name: name, synchronize: synchronize)
}
