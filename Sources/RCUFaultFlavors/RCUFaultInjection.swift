import Glibc
import Synchronization

/// The fault ``FaultyRCU`` injects, process-wide.
///
/// `FaultyRCU` is a generic flavor whose requirements are all static, and generic types
/// cannot hold static state, so the fault and its counters live here, installed for the
/// length of one run. One fault is installed at a time: a second ``with(_:_:)`` waits for
/// the first to end.
public enum RCUFaultInjection {
  /// Runs `body` with `fault` installed, then uninstalls it. Threads that use `FaultyRCU`
  /// must all start and end inside `body`: the per-thread read-side bookkeeping assumes the
  /// fault does not change under a section.
  public static func with<Result, Failure: Error>(
    _ fault: RCUFault, _ body: () throws(Failure) -> Result
  ) throws(Failure) -> Result {
    // Acquiring: pairs with the releasing store that ends the previous run, so this run's
    // fault is installed after that one's was uninstalled.
    while installed.compareExchange(expected: false, desired: true, ordering: .acquiring)
      .exchanged == false
    {
      usleep(1000)
    }
    state.install(fault)
    defer {
      state.uninstall()
      // Releasing: pairs with the acquiring compare-exchange of the next run.
      installed.store(false, ordering: .releasing)
    }
    return try body()
  }

  /// How many times the installed fault has fired so far (a section left unprotected, a
  /// grace period skipped or cut short, a callback run early, lost or doubled).
  public static var firings: UInt64 { state.fired.load(ordering: .relaxed) }

  /// The fault installed right now, if any.
  public static var current: RCUFault? { state.fault.withLock { $0 } }

  static let state = FaultState()
  private static let installed = Atomic<Bool>(false)
}

/// The installed fault, unpacked into atomics that ``FaultyRCU`` reads without a lock.
final class FaultState: Sendable {
  /// The installed kind's index in `RCUFaultKind.allCases`, or -1 for none.
  private let kindIndex = Atomic<Int>(-1)
  private let everyCount = Atomic<Int>(1)
  private let afterNanoseconds = Atomic<Int>(0)
  private let synchronizeCalls = Atomic<Int>(0)
  private let deferCalls = Atomic<Int>(0)
  private let barrierCalls = Atomic<Int>(0)
  /// Raised by every uninstall: a call blocked by a stall fault waits for it to change.
  private let uninstalls = Atomic<UInt64>(0)
  let fired = Atomic<UInt64>(0)
  let fault = Mutex<RCUFault?>(nil)
  private let runner = Mutex<GracePeriodRunner?>(nil)

  func install(_ fault: RCUFault) {
    self.fault.withLock { $0 = fault }
    everyCount.store(fault.every, ordering: .relaxed)
    afterNanoseconds.store(fault.afterMicroseconds * 1000, ordering: .relaxed)
    synchronizeCalls.store(0, ordering: .relaxed)
    deferCalls.store(0, ordering: .relaxed)
    barrierCalls.store(0, ordering: .relaxed)
    fired.store(0, ordering: .relaxed)
    // Releasing: pairs with the acquiring load in `kind`, so a thread that sees the kind
    // sees the rate stored above.
    kindIndex.store(Self.kinds.firstIndex(of: fault.kind)!, ordering: .releasing)
  }

  func uninstall() {
    // Releasing: pairs with the acquiring load in `kind`, as in `install`.
    kindIndex.store(-1, ordering: .releasing)
    // Releasing: pairs with the acquiring load in `blockUntilUninstalled`; the calls a stall
    // fault blocked go on.
    uninstalls.add(1, ordering: .releasing)
    fault.withLock { $0 = nil }
    runner.withLock { runner in
      runner?.stop()
      runner = nil
    }
  }

  /// The installed kind, if any.
  @inline(__always)
  var kind: RCUFaultKind? {
    // Acquiring: pairs with the releasing store in `install`.
    let index = kindIndex.load(ordering: .acquiring)
    return index < 0 ? nil : Self.kinds[index]
  }

  /// Every kind, built once (`allCases` builds a new array on each call).
  private static let kinds = RCUFaultKind.allCases

  var every: Int { everyCount.load(ordering: .relaxed) }

  var giveUpAfterNanoseconds: UInt64 { UInt64(afterNanoseconds.load(ordering: .relaxed)) }

  /// Counts one `synchronize()` call; true once in `every`.
  func synchronizeFires() -> Bool {
    synchronizeCalls.wrappingAdd(1, ordering: .relaxed).newValue % every == 0
  }

  /// Counts one deferral; true once in `every`.
  func deferFires() -> Bool {
    deferCalls.wrappingAdd(1, ordering: .relaxed).newValue % every == 0
  }

  /// Counts one `barrier()` call; true once in `every`.
  func barrierFires() -> Bool {
    barrierCalls.wrappingAdd(1, ordering: .relaxed).newValue % every == 0
  }

  /// Blocks the calling thread until the fault is uninstalled: for the whole run, which
  /// cannot cancel it (a process that ends its run abandons the thread). Sleeps, so that a
  /// stalled thread costs no CPU.
  func blockUntilUninstalled() {
    // Acquiring: pairs with the releasing add in `uninstall`.
    let seen = uninstalls.load(ordering: .acquiring)
    // Read after `seen`: a fault uninstalled before it was read blocks nothing.
    guard kind != nil else { return }
    while uninstalls.load(ordering: .acquiring) == seen { usleep(10_000) }
  }

  /// Counts one firing of the fault.
  func noteFired() { fired.add(1, ordering: .relaxed) }

  /// The background thread that runs real grace periods for
  /// ``RCUFaultKind/shortGracePeriod``, started on first use.
  func runner(synchronize: @escaping @Sendable () -> Void) -> GracePeriodRunner {
    runner.withLock { runner in
      if let runner { return runner }
      let started = GracePeriodRunner(synchronize: synchronize)
      runner = started
      return started
    }
  }
}
