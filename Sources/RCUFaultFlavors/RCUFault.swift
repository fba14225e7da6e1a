/// A deliberate grace-period bug that ``FaultyRCU`` injects into the flavor it wraps.
///
/// Each one is a bug a real RCU implementation could have. They exist to prove that the
/// torture checks catch them; see `StressKit`'s fault catalogue for the detector that must
/// fire for each.
public enum RCUFaultKind: String, CaseIterable, Codable, Sendable {
  /// Once in `every` calls, `synchronize()` returns without waiting for readers.
  case skipGracePeriod = "skip-grace-period"
  /// Once in `every` calls, `synchronize()` returns after `afterMicroseconds` whether or not
  /// the real grace period ended (a grace period with a timeout).
  case shortGracePeriod = "short-grace-period"
  /// Once in `every` deferrals, the work runs at once, on the caller's thread, instead of
  /// after a grace period.
  case earlyCallback = "early-callback"
  /// Once in `every` deferrals, the work is dropped and never runs.
  case lostCallback = "lost-callback"
  /// Once in `every` deferrals, the work is queued twice and so runs twice.
  case doubleCallback = "double-callback"
  /// Once in `every` outermost read locks (per thread), the lock is not taken: the section
  /// runs unprotected, and grace periods do not wait for it.
  case unprotectedSection = "unprotected-section"
  /// Once in `every` inner read unlocks (per thread), the unlock also ends the enclosing
  /// section: the rest of the outer section runs unprotected.
  case nestingBug = "nesting-bug"
  /// Once in `every` calls, `synchronize()` never returns (until the fault is uninstalled):
  /// a grace period that stalls.
  case stallSynchronize = "stall-synchronize"
  /// Once in `every` calls, `barrier()` never returns (until the fault is uninstalled).
  case stallBarrier = "stall-barrier"
  /// Once in `every` outermost read unlocks (per thread), the reader never leaves its
  /// section (until the fault is uninstalled): every later grace period waits for it.
  case stuckReader = "stuck-reader"

  /// Whether the fault makes a call block for good (the stall watchdog's faults).
  public var stalls: Bool { [.stallSynchronize, .stallBarrier, .stuckReader].contains(self) }
}

/// One fault with its rate: which bug, how often, and (for ``RCUFaultKind/shortGracePeriod``)
/// after how long a grace period gives up.
public struct RCUFault: Codable, Hashable, Sendable {
  /// The bug.
  public var kind: RCUFaultKind
  /// The bug fires once in this many opportunities (1: every time).
  public var every: Int
  /// For ``RCUFaultKind/shortGracePeriod``: how long `synchronize()` waits before giving up.
  public var afterMicroseconds: Int

  /// A fault firing once in `every` opportunities.
  public init(_ kind: RCUFaultKind, every: Int = 1, afterMicroseconds: Int = 0) {
    precondition(every >= 1, "a fault fires at most once per opportunity")
    precondition(afterMicroseconds >= 0, "a grace period cannot give up before it starts")
    self.kind = kind
    self.every = every
    self.afterMicroseconds = afterMicroseconds
  }
}
