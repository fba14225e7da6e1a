/// A grace-period mechanism: how readers mark their read-side sections and how writers wait
/// for them.
///
/// Every requirement is static so that code generic over a flavor specializes to direct,
/// inlined calls: the flavor compiles away and a read-side section costs what liburcu's own
/// inline fast path costs.
///
/// Which flavor to pick:
/// - ``MembRCU`` (the default): readers on any thread, registered lazily. Cheap reads;
///   each grace period costs the writer a `sys_membarrier` (an IPI to every CPU running the
///   process).
/// - ``QSBRRCU``: vCPU threads, which have natural quiescent points (every `KVM_RUN`).
///   Reads are (almost) free and grace periods send no IPI, but every reader thread must
///   register, and announce quiescent states or go offline before it blocks.
/// - ``BulletproofRCU``: readers on threads you do not control at all.
/// - ``MemoryBarrierRCU`` and ``SignalRCU``: mainly for checking (a fence per read; a
///   signal per grace period, which takes `SIGUSR1`).
/// - ``LoadedRCU``: an RCU implementation of your own, loaded from a shared object, to put
///   it under the stress tool's checks.
///
/// Rules every caller must keep (a deadlock or a use-after-free otherwise; the flavors of
/// this package abort with a message where they can tell):
/// - Never call ``synchronize()`` or ``barrier()`` inside a read-side section, nor
///   ``barrier()`` inside a deferred work.
/// - A read-side section never spans an `await` (sections are non-escaping, non-async
///   closures, see ``RCUFlavor/withReadSection(_:)``).
public protocol RCUFlavor: Sendable {
  /// A short name for reports (`"memb"`, `"qsbr"`, `"bp"`, `"mb"`, `"signal"`, `"broken"`).
  static var name: String { get }

  /// Registers the calling thread as a reader ahead of its first read-side section.
  ///
  /// Optional for most flavors: a thread that reads without registering is registered on
  /// its first read and unregistered when it exits. Long-lived vCPU threads register up
  /// front so the first guest access does not pay for it. Required for ``QSBRRCU``, where
  /// it also puts the thread online. Idempotent.
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

  /// Runs `work` once, on a background thread, after a grace period that begins after the
  /// call.
  ///
  /// Returns at once: it never blocks and never waits for a grace period, so it may be
  /// called inside a read-side section and from inside a deferred work. The liburcu flavors
  /// of this package run works on their own reclaimer threads, where a work that blocks
  /// delays no other work; works may therefore run concurrently with each other and in any
  /// order.
  static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void)

  /// Waits until every work deferred before the call has run. Not inside a read-side
  /// section, nor inside a deferred work.
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

  /// Runs `body` inside a read-side section from any thread, whatever the flavor's rules
  /// for readers: for the cold reads of management code (a bus's `registrations`), not for
  /// dispatch. Every flavor but QSBR simply enters a section; QSBR attaches a thread that is
  /// not registered, or not online, for the length of `body`, where ``withReadSection(_:)``
  /// would abort.
  static func withReadSectionFromAnyThread<Result>(_ body: () -> Result) -> Result
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

  /// Enters a read-side section: every thread may read on flavors that register readers
  /// lazily or need no registration.
  public static func withReadSectionFromAnyThread<Result>(_ body: () -> Result) -> Result {
    withReadSection(body)
  }
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
