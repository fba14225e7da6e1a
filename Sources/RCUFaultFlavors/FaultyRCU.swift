import RCU

/// A flavor that wraps another and injects the fault installed with
/// ``RCUFaultInjection/with(_:_:)``: a grace period skipped, cut short or stalled, a deferred
/// callback run early, lost or run twice, a barrier that stalls, a read-side section left
/// unprotected or never left, or an inner unlock that ends the outer section.
///
/// It works over any flavor (liburcu's, or one loaded from a shared object), because every
/// fault is made from the outside, out of the wrapped flavor's own calls. With no fault
/// installed it forwards every call unchanged. Production flavors carry nothing for it.
/// Never use it for anything but proving that the checks catch these bugs.
public enum FaultyRCU<Base: RCUFlavor>: RCUFlavor {
  public static var name: String { Base.name }

  public static func registerCurrentThread() { Base.registerCurrentThread() }

  public static func unregisterCurrentThread() { Base.unregisterCurrentThread() }

  public static func readLock() {
    switch state.kind {
    case .unprotectedSection, .nestingBug, .stuckReader: faultyReadLock()
    default: Base.readLock()
    }
  }

  public static func readUnlock() {
    switch state.kind {
    case .unprotectedSection, .nestingBug, .stuckReader: faultyReadUnlock()
    default: Base.readUnlock()
    }
  }

  public static var isInReadSection: Bool { Base.isInReadSection }

  public static func synchronize() {
    switch state.kind {
    case .skipGracePeriod where state.synchronizeFires():
      state.noteFired()
    case .shortGracePeriod where state.synchronizeFires():
      let runner = state.runner(synchronize: { Base.synchronize() })
      if runner.synchronize(givingUpAfter: state.giveUpAfterNanoseconds) { state.noteFired() }
    case .stallSynchronize where state.synchronizeFires():
      state.noteFired()
      state.blockUntilUninstalled()
      Base.synchronize()
    default:
      Base.synchronize()
    }
  }

  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    switch state.kind {
    case .earlyCallback where state.deferFires():
      state.noteFired()
      work()
    case .lostCallback where state.deferFires():
      state.noteFired()
      LostWorks.keep(work)
    case .doubleCallback where state.deferFires():
      state.noteFired()
      Base.deferUntilGracePeriod(work)
      Base.deferUntilGracePeriod(work)
    default:
      Base.deferUntilGracePeriod(work)
    }
  }

  public static func barrier() {
    if state.kind == .stallBarrier && state.barrierFires() {
      state.noteFired()
      state.blockUntilUninstalled()
    }
    Base.barrier()
  }

  public static func threadOffline() { Base.threadOffline() }

  public static func threadOnline() { Base.threadOnline() }

  public static func quiescentState() { Base.quiescentState() }

  private static var state: FaultState { RCUFaultInjection.state }
}

extension FaultyRCU {
  // An unprotected stretch is one the wrapped flavor does not know about: its lock is not
  // held (or was released), and the thread is off-line for the length of it. Off-line is
  // what makes QSBR ignore a reader (its read lock is empty); for every other flavor it is
  // a no-op. Nested sections inside the stretch skip the wrapped flavor too, so its own
  // nesting stays balanced and it is never asked to lock while off-line.

  /// Read lock under a read-side fault: once in N, an outermost section is not entered at
  /// all (``RCUFaultKind/unprotectedSection``).
  private static func faultyReadLock() {
    let thread = ReaderFaultState.current
    thread.pointee.depth += 1
    if thread.pointee.depth == 1 {
      thread.pointee.outermostLocks += 1
      if state.kind == .unprotectedSection && thread.pointee.outermostLocks % state.every == 0 {
        thread.pointee.unprotected = true
        Base.threadOffline()
        state.noteFired()
        return
      }
    }
    if !thread.pointee.unprotected { Base.readLock() }
  }

  /// Read unlock under a read-side fault: once in N, the unlock of a section nested
  /// directly in an outermost one also ends the outer section (``RCUFaultKind/nestingBug``):
  /// the rest of the outer section is unprotected.
  private static func faultyReadUnlock() {
    let thread = ReaderFaultState.current
    defer { thread.pointee.depth -= 1 }
    if state.kind == .stuckReader && thread.pointee.depth == 1 {
      // Stuck inside the section (``RCUFaultKind/stuckReader``), once in N outermost unlocks.
      thread.pointee.outermostUnlocks += 1
      if thread.pointee.outermostUnlocks % state.every == 0 {
        state.noteFired()
        state.blockUntilUninstalled()
      }
    }
    if thread.pointee.unprotected {
      if thread.pointee.depth == 1 {
        thread.pointee.unprotected = false
        Base.threadOnline()
      }
      return
    }
    Base.readUnlock()
    guard state.kind == .nestingBug, thread.pointee.depth == 2 else { return }
    thread.pointee.innerUnlocks += 1
    if thread.pointee.innerUnlocks % state.every == 0 {
      Base.readUnlock()
      thread.pointee.unprotected = true
      Base.threadOffline()
      state.noteFired()
    }
  }
}
