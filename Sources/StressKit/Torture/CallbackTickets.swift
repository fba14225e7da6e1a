import RCU
import Synchronization

/// One deferred callback the torture queued: its ticket and whether it has run.
final class CheckedCallback: Sendable {
  let ticket: UInt64
  let ran = Atomic<Bool>(false)

  init(ticket: UInt64) { self.ticket = ticket }
}

/// Numbers every deferred callback the torture queues and checks that each runs exactly
/// once, never before its grace period, and before `barrier()` returns.
///
/// - Duplicates: a callback flips its own `ran` flag first thing; finding it already set is
///   a violation, reported before the callback touches anything else (so a callback run
///   twice never frees twice).
/// - Lost: the thread that queued a callback checks, after its own `barrier()`, that it
///   has run. Its `call_rcu` precedes the `barrier()` in program order, and `barrier()`
///   waits for every callback queued before it.
/// - Early (``queued`` / ``highestRun``): a callback takes its ticket before it is queued,
///   and raises ``highestRun`` to it when it runs. A reader reads ``queued`` just after
///   entering its section and ``highestRun`` just before leaving it; seeing a ticket that
///   ran greater than the count it read means a callback queued after the reader entered
///   has run before the reader left. Why a correct RCU never trips it: the reader's load of
///   ``queued`` reads before the increment that made the ticket, which precedes the
///   `call_rcu` in program order; the callback must wait for a grace period that began
///   after that `call_rcu`, and by RCU's fundamental guarantee that grace period cannot end
///   before a section with an access preceding it ends. The callback's store to
///   ``highestRun`` follows the end of that grace period, so no load in the section sees
///   it. (Checking a callback against the `synchronize()` tickets instead would be wrong:
///   `call_rcu` runs grace periods of its own, which no ticket counts.)
final class CallbackTickets: Sendable {
  private let queuedTickets = Atomic<UInt64>(0)
  private let highestRunTicket = Atomic<UInt64>(0)
  private let runs = Atomic<UInt64>(0)
  private let violations: Violations

  init(violations: Violations) { self.violations = violations }

  /// Queues a checked callback on `Flavor` that runs `payload` (once, even if the flavor
  /// runs the callback twice), and returns its record for the lost check.
  func queue<Flavor: RCUFlavor>(
    _ flavor: Flavor.Type, payload: (@Sendable () -> Void)? = nil
  ) -> CheckedCallback {
    // Sequentially consistent: the ticket is taken before the callback is queued; pairs with
    // the acquiring load of `queuedTickets` a reader makes at section entry.
    let callback = CheckedCallback(
      ticket: queuedTickets.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue)
    Flavor.deferUntilGracePeriod { [self] in run(callback, payload: payload) }
    return callback
  }

  private func run(_ callback: CheckedCallback, payload: (@Sendable () -> Void)?) {
    // liburcu's callback thread blocks every signal: a crash on it must still be reported.
    CrashGuard.prepareCurrentThread()
    // Acquiring and releasing: pairs with the other run's exchange (exactly one of two runs
    // of a doubled callback sees false) and with the acquiring load in `checkRan`.
    guard !callback.ran.exchange(true, ordering: .acquiringAndReleasing) else {
      violations.record(
        .callbackDuplicate, "deferred callback \(callback.ticket) ran a second time")
      return
    }
    // Releasing: the store happens after the grace period the callback waited for; pairs
    // with the acquiring load of `highestRunTicket` a reader makes at section exit.
    highestRunTicket.max(callback.ticket, ordering: .releasing)
    runs.add(1, ordering: .relaxed)
    payload?()
  }

  /// After the caller's own `barrier()`: reports every callback in `outstanding` (queued by
  /// the caller before that barrier) that has not run, and forgets them all.
  func checkRan(_ outstanding: inout [CheckedCallback]) {
    // Acquiring: pairs with the exchange in `run`.
    for callback in outstanding where !callback.ran.load(ordering: .acquiring) {
      violations.record(
        .callbackLost, "deferred callback \(callback.ticket) had not run after barrier()")
    }
    outstanding.removeAll(keepingCapacity: true)
  }

  /// How many tickets were handed out: read by a reader just after entering its section.
  @inline(__always)
  var queued: UInt64 { queuedTickets.load(ordering: .relaxed) }

  /// The highest ticket of a callback that ran: read just before leaving the section.
  @inline(__always)
  var highestRun: UInt64 { highestRunTicket.load(ordering: .relaxed) }

  /// How many callbacks ran (first runs only).
  var runCount: UInt64 { runs.load(ordering: .relaxed) }
}
