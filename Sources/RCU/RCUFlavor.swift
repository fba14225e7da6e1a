/// A grace-period mechanism: how readers mark their read-side sections and how writers wait
/// for them.
///
/// Every requirement is static so that code generic over a flavor specializes to direct,
/// inlined calls: the flavor compiles away and a read-side section costs what liburcu's own
/// inline fast path costs.
///
/// Rules every caller must keep (liburcu's, and a deadlock or a use-after-free otherwise):
/// - Never call ``synchronize()`` or ``barrier()`` inside a read-side section or inside a
///   deferred callback.
/// - A read-side section never spans an `await` (sections are non-escaping, non-async
///   closures, see ``RCUFlavor/withReadSection(_:)``).
public protocol RCUFlavor: Sendable {
  /// A short name for reports (`"memb"`, `"bp"`, `"broken"`).
  static var name: String { get }

  /// Registers the calling thread as a reader ahead of its first read-side section.
  ///
  /// Optional: a thread that reads without registering is registered on its first read and
  /// unregistered when it exits. Long-lived vCPU threads register up front so the first
  /// guest access does not pay for it. Idempotent.
  static func registerCurrentThread()

  /// Unregisters the calling thread. It must not be inside a read-side section. Idempotent.
  static func unregisterCurrentThread()

  /// Enters a read-side section. Sections nest.
  static func readLock()

  /// Leaves a read-side section.
  static func readUnlock()

  /// Whether the calling thread is inside a read-side section.
  static var isInReadSection: Bool { get }

  /// Waits until every read-side section that began before the call has ended.
  static func synchronize()

  /// Runs `work` after a grace period, on a background thread, without blocking the caller.
  static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void)

  /// Waits until all work deferred before the call has run.
  static func barrier()

  /// Tells the flavor that the calling thread holds no RCU-protected reference and will not
  /// read until ``threadOnline()``: for a vCPU thread about to enter the guest (`KVM_RUN`)
  /// or to block. Only QSBR needs it; for every other flavor it compiles away.
  static func threadOffline()

  /// Ends ``threadOffline()``: the thread may read again.
  static func threadOnline()

  /// Tells the flavor that the calling thread holds no RCU-protected reference right now
  /// (between two dispatches). Only QSBR needs it; for every other flavor it compiles away.
  static func quiescentState()
}

extension RCUFlavor {
  /// No-op: only quiescent-state-based flavors track offline threads.
  @inlinable @inline(__always)
  public static func threadOffline() {}

  /// No-op: only quiescent-state-based flavors track offline threads.
  @inlinable @inline(__always)
  public static func threadOnline() {}

  /// No-op: only quiescent-state-based flavors need quiescent states announced.
  @inlinable @inline(__always)
  public static func quiescentState() {}
}

extension RCUFlavor {
  /// Runs `body` inside a read-side section.
  ///
  /// Anything read through an RCU-protected pointer inside `body` stays valid until `body`
  /// returns, and must not escape it.
  @inlinable
  @inline(__always)
  public static func withReadSection<Result>(_ body: () -> Result) -> Result {
    // Not rethrowing: a throwing edge would leave an unlock call on the dispatch path that
    // the hot-path check would have to allow.
    readLock()
    let result = body()
    readUnlock()
    return result
  }
}
