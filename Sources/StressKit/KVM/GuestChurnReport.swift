import ConcurrentBus
import Foundation
import KVM

/// The result of `stress kvm` (without `--compare`), printed and written with `--json`.
public struct GuestChurnReport: CheckReport {
  /// The command that ran.
  public let command: String
  /// The configuration run.
  public let configuration: GuestChurnConfiguration
  /// Guest rounds run (each vCPU ran its program once per round).
  public let rounds: Int
  /// Loop iterations of the program per round.
  public let roundIterations: Int
  /// Distinct (space, address, size, value) pairs the program writes.
  public let keys: Int
  /// Guest writes executed, summed over vCPUs and rounds.
  public let executedWrites: Int
  /// Eventfd signals drained (by the consumer thread and at retirement).
  public let drainedSignals: Int
  /// Writes the run loop saw unclaimed.
  public let unclaimedWrites: Int
  /// Writes that never exited: absorbed by KVM_IOEVENTFD in the kernel.
  public let kernelAbsorbedWrites: Int
  /// KVM_RUN exits, summed over vCPUs and rounds.
  public let exits: Int
  /// Churned registrations made and removed.
  public let registrations: UInt64
  public let removals: UInt64
  /// Removals that blocked for their grace period, and deferred releases that ran.
  public let gracePeriodsWaited: UInt64
  public let deferredReleases: UInt64
  /// Removal checks run, and the vCPUs they found inside a read-side section.
  public let removalChecks: UInt64
  public let sectionsSeenByChecks: UInt64
  /// How long synchronous removals blocked.
  public let gracePeriodWait: LatencySummary
  /// Time spent running guest rounds, in seconds.
  public let guestSeconds: Double
  /// The coalesced ranges' figures, with `--coalesced`.
  public let coalesced: CoalescedSummary?
  /// The stall watchdog's timeout and the longest waits it saw; `stalled` when the final
  /// unregisters and reconciliation were skipped.
  public let stall: StallSummary
  /// The minimums and what the run reached.
  public let work: [WorkMeasure]
  /// What broke, by kind.
  public let violations: [ViolationSummary]
  /// Where the tool ran short, by kind.
  public let shortfalls: [Shortfall]

  /// Guest writes per second of guest time.
  public var writesPerSecond: Double {
    guestSeconds > 0 ? Double(executedWrites) / guestSeconds : 0
  }

  /// The human-readable report.
  public var text: String {
    let c = configuration
    var lines = [
      "stress kvm: \(c.vcpus) vCPU(s), \(c.hotplugThreads) hotplug thread(s), \(c.stableDevices) stable + \(c.churnDevices) churned eventfds, kernel ioeventfd \(c.kernelIOEventFD ? "on" : "off"), coalesced \(c.coalesced ? "on" : "off"), flavor \(c.flavor.rawValue), seed \(c.seed)"
        + (c.fault == .none
          ? "" : ", fault \(c.fault.rawValue) (1 in \(c.faultRate) \(c.fault.everyUnit))"),
      String(
        format: "  rounds %d x %d iterations, %d (address, value) pairs, guest time %.2f s",
        rounds, roundIterations, keys, guestSeconds),
      String(
        format: "  executed writes %d (%.0f /s), exits %d", executedWrites, writesPerSecond, exits),
      "  drained signals \(drainedSignals), unclaimed writes \(unclaimedWrites), absorbed in kernel \(kernelAbsorbedWrites)",
      "  hotplug: \(registrations) registered, \(removals) removed; \(gracePeriodsWaited) waited for their grace period, \(deferredReleases) deferred releases ran",
      "  removal checks: \(removalChecks), finding \(sectionsSeenByChecks) vCPU(s) inside a read-side section",
      "  grace-period wait: \(gracePeriodWait.text)",
    ]
    lines += coalesced?.lines ?? []
    lines.append(stall.text)
    if stall.stalled {
      lines.append("  final unregisters and reconciliation skipped: threads stalled")
    }
    lines += outcome.lines
    return lines.joined(separator: "\n")
  }
}

extension GuestChurnRun {
  /// The least work after which "no violation" means something (see README, "Verdicts").
  func minimumWork(executedPerVCPU: Int, kernelAbsorbed: Int, coalesced: CoalescedSummary?)
    -> [WorkMeasure]
  {
    // The stale-section check runs on the coalesced hotplug's removals too.
    let coalescedHotplug = coalescing?.hotplug.counters
    var work = [
      WorkMeasure("churned registrations", done: hotplug.counters[.registrations], required: 100),
      WorkMeasure(
        "grace periods waited",
        done: hotplug.counters[.gracePeriodsWaited] + (coalescedHotplug?[.gracePeriodsWaited] ?? 0),
        required: 50),
      WorkMeasure(
        "vCPU sections seen by removal checks",
        done: hotplug.counters[.sectionsSeen] + (coalescedHotplug?[.sectionsSeen] ?? 0),
        required: 10),
      WorkMeasure("guest writes per vCPU", done: UInt64(executedPerVCPU), required: 10_000),
    ]
    if hotplug.target.supportsDeferredRemovals {
      work.append(
        WorkMeasure("deferred releases", done: hotplug.counters[.deferredReleases], required: 10))
    }
    if configuration.kernelIOEventFD {
      work.append(
        WorkMeasure(
          "writes absorbed by KVM_IOEVENTFD", done: UInt64(max(0, kernelAbsorbed)), required: 1))
    }
    return work + (coalesced?.minimumWork ?? [])
  }

  /// Reconciles every pair (when `settled`: every count is in) and builds the report;
  /// `stable` holds the keys of the stable pairs registered.
  func report(
    stable stableSet: Set<GuestWrite>, rounds: Rounds, unclaimed: [GuestWrite: Int],
    coalesced: CoalescedSummary?, settled: Bool,
    stall: StallSummary
  ) -> GuestChurnReport {
    let perRound = program.expectedWrites()
    let drainedCounts = drained.withAnnotatedLock(owner: self) { $0 }
    var executedTotal = 0
    for key in Set(perRound.keys).union(unclaimed.keys).union(drainedCounts.keys) {
      let executed = (perRound[key] ?? 0) * rounds.count * configuration.vcpus
      let signals = drainedCounts[key] ?? 0
      let missed = unclaimed[key] ?? 0
      executedTotal += executed
      let counts = "\(key): executed \(executed), drained \(signals), unclaimed \(missed)"
      guard settled else { continue }
      if signals + missed != executed {
        violations.record(signals + missed < executed ? .lostSignal : .spuriousSignal, counts)
      }
      if stableSet.contains(key), missed != 0 {
        violations.record(.lostSignal, "stable registration left writes unclaimed: \(counts)")
      }
    }
    let failed =
      registrar.portBus.eventFDStatistics.failedSignals
      + registrar.mmioBus.eventFDStatistics.failedSignals
    if failed > 0 {
      violations.record(.failedSignal, "the buses failed to signal \(failed) matched write(s)")
    }
    // Every exit is a write, a read or the final halt; the eventfd writes that did not exit
    // stayed in the kernel, and so did the sequenced writes KVM buffered in the ring.
    let reads = program.accesses.filter {
      if case .portRead = $0 { return true }
      if case .mmioRead = $0 { return true }
      return false
    }.count
    let readsExecuted = reads * program.iterations * rounds.count * configuration.vcpus
    let sequencedExits = (coalesced?.sequencedWrites ?? 0) - (coalesced?.ringEntries ?? 0)
    // Not counted (0) when the coalesced counts are unknown (a run that did not settle):
    // the sequenced writes that exited would count as absorbed writes, negatively.
    let kernelAbsorbed =
      configuration.coalesced && coalesced == nil
      ? 0
      : executedTotal
        - (rounds.exits - readsExecuted - rounds.count * configuration.vcpus - sequencedExits)
    let work = minimumWork(
      executedPerVCPU: executedTotal / configuration.vcpus, kernelAbsorbed: kernelAbsorbed,
      coalesced: coalesced)
    let violations = violations.summary
    return GuestChurnReport(
      command: "kvm", configuration: configuration, rounds: rounds.count,
      roundIterations: program.iterations, keys: perRound.count, executedWrites: executedTotal,
      drainedSignals: drainedCounts.values.reduce(0, +),
      unclaimedWrites: unclaimed.values.reduce(0, +), kernelAbsorbedWrites: kernelAbsorbed,
      exits: rounds.exits, registrations: hotplug.counters[.registrations],
      removals: hotplug.counters[.removals],
      gracePeriodsWaited: hotplug.counters[.gracePeriodsWaited],
      deferredReleases: hotplug.counters[.deferredReleases],
      removalChecks: hotplug.removalChecks, sectionsSeenByChecks: hotplug.counters[.sectionsSeen],
      gracePeriodWait: hotplug.gracePeriodWaits, guestSeconds: rounds.guestTime.seconds,
      coalesced: coalesced, stall: stall,
      work: work, violations: violations, shortfalls: shortfalls.summary)
  }
}
