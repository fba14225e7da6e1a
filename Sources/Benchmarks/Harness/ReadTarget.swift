import ConcurrentBus

/// What the read-side harness needs from a design: a dispatch, per-thread setup, and one
/// registry update for the churning writer.
protocol ReadTarget: Sendable {
  /// Dispatches a 4-byte guest write; whether a device claimed it.
  func dispatch(address: UInt64) -> Bool
  /// Prepares a reader thread (RCU reader registration; for QSBR, online) before it is timed.
  func prepareThread()
  /// Prepares the writer thread: it never reads, so under QSBR it stays offline (an online
  /// thread asleep between updates would hold back every grace period).
  func prepareWriter()
  /// Waits until every work the design deferred (a retired table's reclamation) has run.
  func barrier()
  /// Called by a busy reader every ``dispatchesPerCheck`` dispatches, between two of them,
  /// where it holds nothing it read: QSBR's quiescent state; nothing for the other designs.
  func quiescentState()
  /// A vCPU-like reader enters "guest time", where it holds nothing it read: QSBR goes
  /// offline; nothing for the other designs.
  func enterGuest()
  /// A vCPU-like reader leaves guest time: QSBR comes back online.
  func leaveGuest()
  /// Registers a device away from the readers' addresses, or unregisters it (synchronously:
  /// the writer waits for readers before the device is released) when given one.
  func churn(_ registration: Registration?) -> Registration?
}
