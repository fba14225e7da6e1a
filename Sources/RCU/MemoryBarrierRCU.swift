import CURCU

/// liburcu's "mb" flavor: every read_lock and read_unlock issues a full memory barrier, so
/// the writer needs no `sys_membarrier` and no signal.
///
/// Mainly for checking: its read side is tens of times slower than ``MembRCU``'s, but its
/// ordering is the simplest to reason about, which makes it a reference when a check
/// fails on another flavor. Readers register themselves on their first read-side section
/// and are unregistered when they exit. Every call is a library call (not inlined).
public enum MemoryBarrierRCU: TableFlavor {
  public static var name: String { "mb" }

  static var table: OpaquePointer { curcu_mb_table }

  static let reclaimer = Reclaimer(name: name, synchronize: synchronize)
}
