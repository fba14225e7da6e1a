import RCU

/// A flavor that wraps another and injects the fault installed with
/// ``RCUFaultInjection/with(_:_:)``: a grace period skipped or cut short, a deferred callback
/// run early, lost or run twice, a read-side section left unprotected, or an inner unlock
/// that ends the outer section.
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
    case .unprotectedSection, .nestingBug: faultyReadLock()
    default: Base.readLock()
    }
  }

  public static func readUnlock() {
    switch state.kind {
    case .unprotectedSection, .nestingBug: faultyReadUnlock()
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
    case .doubleCallback where state.deferFires():
      state.noteFired()
      Base.deferUntilGracePeriod(work)
      Base.deferUntilGracePeriod(work)
    default:
      Base.deferUntilGracePeriod(work)
    }
  }

  public static func barrier() { Base.barrier() }

  public static func threadOffline() { Base.threadOffline() }

  public static func threadOnline() { Base.threadOnline() }

  public static func quiescentState() { Base.quiescentState() }

  private static var state: FaultState { RCUFaultInjection.state }
}

extension FaultyRCU {
  /// Read lock under a read-side fault: the wrapped flavor's lock is skipped for an
  /// outermost section once in N (``RCUFaultKind/unprotectedSection``).
  private static func faultyReadLock() {
    let thread = ReaderFaultState.current
    thread.pointee.depth += 1
    if thread.pointee.depth == 1 {
      thread.pointee.outermostLocks += 1
      if state.kind == .unprotectedSection && thread.pointee.outermostLocks % state.every == 0 {
        thread.pointee.outerSkipped = true
        state.noteFired()
        return
      }
    }
    Base.readLock()
  }

  /// Read unlock under a read-side fault: once in N, the unlock of a section nested
  /// directly in an outermost one unlocks twice, ending the outer section too
  /// (``RCUFaultKind/nestingBug``); the outer unlock then skips the wrapped flavor's.
  private static func faultyReadUnlock() {
    let thread = ReaderFaultState.current
    defer { thread.pointee.depth -= 1 }
    if thread.pointee.depth == 1 {
      if thread.pointee.outerSkipped {
        thread.pointee.outerSkipped = false
      } else if thread.pointee.outerEnded {
        thread.pointee.outerEnded = false
      } else {
        Base.readUnlock()
      }
      return
    }
    Base.readUnlock()
    let endsOuter =
      state.kind == .nestingBug && thread.pointee.depth == 2 && !thread.pointee.outerSkipped
      && !thread.pointee.outerEnded
    guard endsOuter else { return }
    thread.pointee.innerUnlocks += 1
    if thread.pointee.innerUnlocks % state.every == 0 {
      Base.readUnlock()
      thread.pointee.outerEnded = true
      state.noteFired()
    }
  }
}
