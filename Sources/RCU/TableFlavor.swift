import CURCU

/// The template for flavors reached through one of CURCU's function tables (liburcu's mb
/// and signal flavors, an RCU library loaded at run time): a conformer names its table, and
/// every call goes to the tables' one C implementation, which registers readers lazily
/// (unregistering them at thread exit), keeps the nesting depth ``RCUFlavor/isInReadSection``
/// reads, and aborts with a message where a call would deadlock inside a section. Every
/// call is a library call: none of these flavors is a hot path.
protocol TableFlavor: LiburcuFlavor {
  /// The flavor's table: `curcu_mb_table`, `curcu_signal_table` or `curcu_loaded_table`.
  static var table: OpaquePointer { get }
}

extension TableFlavor {
  /// Registers the calling thread ahead of its first read-side section (optional).
  public static func registerCurrentThread() { curcu_table_register(table) }

  /// Unregisters the calling thread; aborts inside a read-side section.
  public static func unregisterCurrentThread() { curcu_table_unregister(table) }

  /// Enters a read-side section, registering the thread first if nobody did.
  public static func readLock() { curcu_table_read_lock(table) }

  /// Leaves a read-side section.
  public static func readUnlock() { curcu_table_read_unlock(table) }

  /// Whether the calling thread is inside a read-side section: the table's nesting depth.
  public static var isInReadSection: Bool { curcu_table_read_ongoing(table) }

  static func waitForGracePeriod() { curcu_table_synchronize(table) }

  /// Yes: the table checks its nesting depth first.
  static var gracePeriodChecksReadSection: Bool { true }

  static var inlinesReadSide: Bool { false }
}
