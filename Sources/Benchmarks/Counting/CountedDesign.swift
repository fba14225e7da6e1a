/// The designs whose dispatch is counted under valgrind: the read side's six (``Design``)
/// plus the RCU bus on liburcu's bp and mb flavors, each on the same table, lookup and device
/// call as the timed benchmark.
public enum CountedDesign: String, CaseIterable, Codable, Sendable {
  /// The unsynchronized floor, ``Design/floor``.
  case floor
  /// The RCU bus on memb, ``Design/memb``.
  case memb
  /// The RCU bus on qsbr, ``Design/qsbr`` (a quiescent state every 64 dispatches).
  case qsbr
  /// The RCU bus on liburcu's bulletproof flavor.
  case bp
  /// The RCU bus on liburcu's mb flavor (full barriers on the read side).
  case mb
  /// ``Design/rwlock``.
  case rwlock
  /// ``Design/mutex``.
  case mutex
  /// ``Design/swapped``.
  case swapped
}
