import CURCU

/// liburcu's "qsbr" flavor (quiescent-state-based reclamation): a read-side section costs a
/// thread-local check, and a grace period waits only for every *online* thread to announce
/// a quiescent state or go offline. No memory barrier on the read side, no IPI on the
/// write side.
///
/// Pick it for vCPU threads: they have natural quiescent points. KVM itself never holds its
/// SRCU read lock across guest entry, and a vCPU thread holds nothing of the bus while the
/// guest runs, so it goes offline around `KVM_RUN` (or announces a quiescent state after
/// each exit). It cannot serve readers on threads you do not control: use ``MembRCU`` (or
/// ``BulletproofRCU``) there.
///
/// The rules for a QSBR thread, which the flavor enforces where it can:
/// - **Register before reading.** ``registerCurrentThread()`` registers the thread and puts
///   it online. There is no lazy registration: a read on a thread that is not registered and
///   online would not be protected, so it aborts the process with a message, in release
///   builds too. (Registering lazily would not help: an online thread that never announces
///   quiescent states stalls every grace period.)
/// - **Announce quiescent states or go offline.** An online thread holds back every grace
///   period until it calls ``quiescentState()`` (between dispatches, for example after each
///   exit) or ``threadOffline()``. Go offline before anything that blocks: `KVM_RUN`,
///   sleeping, a lock, I/O, waiting for a deferred release. A thread that blocks while
///   online makes every synchronous unregister and deferred release wait until it wakes.
///   ``threadOnline()`` before the next read.
/// - **No quiescent state inside a section.** ``quiescentState()``, ``threadOffline()``,
///   ``RCUFlavor/synchronize()``, ``barrier()`` and ``unregisterCurrentThread()`` abort
///   inside a read-side section: they would end the protection of what the section still
///   uses. Outside one, ``RCUFlavor/synchronize()`` and ``barrier()`` take an online caller
///   offline for the wait and bring it back.
/// - Deferred work runs on reclaimer threads that are not registered: a work that reads
///   under QSBR registers first and unregisters before it returns.
public enum QSBRRCU: LiburcuFlavor {
  public static var name: String { "qsbr" }

  /// Registers the calling thread and puts it online; only puts it online if it is
  /// registered already. The thread must then call ``quiescentState()`` regularly, or go
  /// ``threadOffline()`` before it blocks. It is unregistered when it exits if nobody
  /// unregisters it before.
  public static func registerCurrentThread() { curcu_qsbr_register_thread() }

  /// Unregisters the calling thread (outside any read-side section). Idempotent.
  public static func unregisterCurrentThread() { curcu_qsbr_unregister_thread() }

  /// Enters a read-side section: aborts unless the thread is registered and online.
  @inlinable @inline(__always)
  public static func readLock() { curcu_qsbr_read_lock() }

  @inlinable @inline(__always)
  public static func readUnlock() { curcu_qsbr_read_unlock() }

  /// True exactly inside a read-side section (an online thread between sections is not in
  /// one).
  public static var isInReadSection: Bool { curcu_qsbr_read_ongoing() }

  static func waitForGracePeriod() { curcu_qsbr_synchronize() }

  static var gracePeriodChecksReadSection: Bool { true }

  static var inlinesReadSide: Bool { true }

  static let reclaimer = Reclaimer(name: name, synchronize: synchronize)

  /// Waits until every work deferred before the call has run. Aborts inside a read-side
  /// section; an online caller goes offline for the wait and comes back online after it.
  public static func barrier() {
    if curcu_qsbr_read_ongoing() { curcu_qsbr_die_inside_section("barrier") }
    // An online caller blocked here would hold back the grace periods the works wait for.
    let wasOnline = curcu_qsbr_is_online()
    if wasOnline { curcu_qsbr_thread_offline() }
    reclaimer.barrier()
    if wasOnline { curcu_qsbr_thread_online() }
  }

  /// Takes the calling thread offline: grace periods stop waiting for it. Aborts inside a
  /// read-side section; nothing if already offline or unregistered.
  @inlinable @inline(__always)
  public static func threadOffline() { curcu_qsbr_thread_offline() }

  /// Brings a registered thread back online. Aborts on an unregistered thread.
  @inlinable @inline(__always)
  public static func threadOnline() { curcu_qsbr_thread_online() }

  /// Announces that the calling thread holds nothing it read. Aborts inside a read-side
  /// section; nothing on an offline or unregistered thread.
  @inlinable @inline(__always)
  public static func quiescentState() { curcu_qsbr_quiescent_state() }

  /// Reads from any thread: an online thread simply enters a section; a registered thread
  /// that is offline comes online for `body` and goes offline again; a thread that is not
  /// registered registers for `body` and unregisters after it. Cold: a registration takes
  /// liburcu's registry lock. For management code (a bus's `registrations` or
  /// `device(of:)`), never for dispatch.
  public static func withReadSectionFromAnyThread<Result>(_ body: () -> Result) -> Result {
    if curcu_qsbr_is_online() { return withReadSection(body) }
    if curcu_qsbr_is_registered() {
      threadOnline()
      defer { threadOffline() }
      return withReadSection(body)
    }
    registerCurrentThread()
    defer { unregisterCurrentThread() }
    return withReadSection(body)
  }
}
