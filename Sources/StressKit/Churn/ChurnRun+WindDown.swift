import ConcurrentBus
import RCU

extension ChurnRun {
  /// How winding down went.
  struct WindDown {
    /// When the last vCPU stopped dispatching (or the time ran out waiting for it).
    let dispatchEnded: UInt64
    /// Eventfds the bus still held after the final barrier (must be 0).
    let held: Int
    /// The reclamation backlog's peak, and what was left once everything was unregistered
    /// and the last barrier returned (checked to be empty only then).
    let backlog: BacklogSummary
  }

  /// After the work phase: stops every thread, waits for what the bus owes (the final
  /// barrier), reconciles every count and ring, and unregisters everything, all by the
  /// budget's wind-down deadline. What is still busy then (a thread inside a grace period,
  /// a consumer behind) is left behind as a shortfall; the checks that depended on it are
  /// not made, and the run ends inconclusive rather than late.
  /// The final barrier waits under `watchdog`'s eye: one that stalls is a `stall`.
  func windDown(
    vcpus: [RunThread], hotplugs: [RunThread], ringHotplugs: [RunThread],
    watchdog: StallWatchdog
  ) -> WindDown {
    let deadline = budget.windDownDeadline
    PhaseTrace.note("wind-down, until \(Double(deadline - budget.started) / 1e9) s", budget: budget)
    let vcpusLeft = vcpus.join(until: deadline, givingUp: watchdog.givingUp)
    let dispatchEnded = monotonicNanoseconds()
    let hotplugsLeft = hotplugs.join(until: deadline, givingUp: watchdog.givingUp)
    let ringHotplugsLeft = ringHotplugs.join(until: deadline, givingUp: watchdog.givingUp)
    hotplug.abandon()
    rings?.hotplug.abandon()
    if vcpusLeft > 0 {
      shortfalls.record(.time, "\(vcpusLeft) vCPU thread(s) had not stopped when the time ran out")
    }
    if hotplugsLeft + ringHotplugsLeft > 0 {
      shortfalls.record(
        .time,
        "\(hotplugsLeft + ringHotplugsLeft) hotplug thread(s) were still inside an update (a "
          + "grace period) when the time ran out")
    }
    PhaseTrace.note("threads joined", budget: budget)
    let consumersStopped = ledger.stopConsumers(until: deadline)
    PhaseTrace.note("consumers stopped", budget: budget)
    let barrierSlot = watchdog.slot("main (final barrier)")
    let barrierReturned = finishes(by: deadline, givingUp: watchdog.givingUp) {
      barrierSlot.waiting(for: .barrier) { Flavor.barrier() }
    }
    PhaseTrace.note("final barrier", budget: budget)
    if !barrierReturned {
      shortfalls.record(.time, "the final barrier() had not returned when the time ran out")
    }
    let settled = vcpusLeft == 0 && hotplugsLeft == 0 && consumersStopped && barrierReturned
    if settled {
      reconcileSettled(settledFor: 0)
      reconcileRemaining()
    } else {
      shortfalls.record(
        .time,
        "the eventfd counts were not reconciled: "
          + (consumersStopped ? "threads were still busy" : "a consumer was still draining"))
    }
    PhaseTrace.note("counts reconciled", budget: budget)
    rings?.finish(
      until: deadline, hotplugEnded: vcpusLeft == 0 && ringHotplugsLeft == 0,
      barrierReturned: barrierReturned)
    PhaseTrace.note("rings finished", budget: budget)
    guard settled && ringHotplugsLeft == 0 else {
      return WindDown(
        dispatchEnded: dispatchEnded, held: 0,
        backlog: backlog.finish(bus.reclamationBacklog, into: nil))
    }
    let held = result(by: deadline, givingUp: watchdog.givingUp) { [self] in cleanUp() }
    if held == nil {
      shortfalls.record(
        .time, "the final unregister and barrier() had not returned when the time ran out")
    }
    // Only once every reclamation was handed over and the last barrier ran them all can
    // what is left be a lost one: otherwise the backlog is printed, not judged.
    return WindDown(
      dispatchEnded: dispatchEnded, held: held ?? 0,
      backlog: backlog.finish(bus.reclamationBacklog, into: held == nil ? nil : violations))
  }
}
