import ConcurrentBus
import Foundation
import HostSupport
import KVM
import KVMGuests
import RCU
import Synchronization

/// Real guests plus hotplug churn with exact accounting: for every (address, value) the
/// guests wrote, drained eventfd counts + unclaimed writes == writes executed; and the
/// engine's removal checks on every unregister (stale sections, late signals). With
/// `coalesced`, every vCPU also writes sequenced values to coalesced ranges whose
/// registrations move in and out of the kernel (``GuestCoalescing``), and every value must
/// be delivered once, in its writer's order.
public enum GuestChurn {
  /// Runs guests in rounds until `configuration.duration` has passed (or a violation is
  /// found) while hotplug threads churn, then checks the accounting.
  ///
  /// - Throws: ``OptionError`` for a configuration out of range (including more vCPUs
  ///   than KVM recommends), ``SetupFailure`` when KVM or the host refuses something.
  ///   Violations are in the report.
  public static func run(system: KVMSystem, configuration: GuestChurnConfiguration) throws
    -> GuestChurnReport
  {
    try configuration.validate()
    let limit: Int
    let hasIOEventFD: Bool
    let coalescing: Bool
    do {
      limit = try system.recommendedVCPUCount()
      hasIOEventFD = try system.supportsIOEventFD()
      coalescing =
        try system.coalescedRingPageOffset() != nil && system.supportsCoalescedPIO()
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
    try RunLimits.check(
      "--vcpus", configuration.vcpus, in: 1...limit, why: "KVM_CAP_NR_VCPUS here")
    if configuration.kernelIOEventFD && !hasIOEventFD {
      throw SetupFailure(message: "kvm: KVM_CAP_IOEVENTFD is missing")
    }
    if configuration.coalesced && !coalescing {
      throw SetupFailure(
        message: "kvm: --coalesced needs KVM_CAP_COALESCED_MMIO and KVM_CAP_COALESCED_PIO")
    }
    return try configuration.flavor.run(
      GuestChurnWork(system: system, configuration: configuration))
  }
}

/// A guest churn run, generic over the flavor ``FlavorChoice/run(_:)`` picks.
private struct GuestChurnWork: FlavorGenericWork {
  let system: KVMSystem
  let configuration: GuestChurnConfiguration

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> GuestChurnReport {
    do {
      return try GuestChurnRun<Flavor>(system: system, configuration: configuration).run()
    } catch let error as SetupFailure {
      throw error
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
  }
}

/// One guest churn run on one flavor.
final class GuestChurnRun<Flavor: RCUFlavor>: Sendable {
  let configuration: GuestChurnConfiguration
  let budget: RunBudget
  let violations = Violations()
  let shortfalls = Shortfalls()
  let guest: GuestRun
  let program: GuestProgram
  let stableKeys: [GuestWrite]
  let registrar: Registrar<Flavor>
  let ledger: EventLedger<GuestWrite>
  let sections: SectionEpochs
  let hotplug: Hotplug<GuestChurnTarget<Flavor>>
  let drained = Mutex<[GuestWrite: Int]>([:])
  let stopHotplug = StopFlag()
  /// The coalesced ranges, with `--coalesced`.
  let coalescing: GuestCoalescing<Flavor>?
  /// Guest rounds completed, for the progress line.
  let roundsDone = Atomic<Int>(0)

  init(system: KVMSystem, configuration: GuestChurnConfiguration) throws {
    budget = RunBudget(
      duration: configuration.duration.seconds,
      extension: configuration.minimumWorkWithin.seconds)
    self.configuration = configuration
    let registered = configuration.stableDevices + configuration.churnDevices
    let sequenced =
      configuration.coalesced
      ? CoalescedLayout(churned: configuration.coalescedRanges).sequencedWrites : []
    let iterations =
      try configuration.roundIterations
      ?? GuestChurn.calibrate(
        system: system, configuration: configuration, registeredKeys: registered,
        sequencedWrites: sequenced)
    PhaseTrace.note("calibrated: \(iterations) iterations a round", budget: budget)
    let program = GuestChurn.program(iterations: iterations, registeredKeys: registered)
    self.program = program
    guest = try GuestRun(
      system: system,
      programs: (0..<configuration.vcpus).map { vcpu in
        var program = program
        program.writer = UInt8(vcpu)
        program.sequencedWrites = sequenced
        return program
      })
    var keys = Array(program.expectedWrites().keys).sorted { $0.description < $1.description }
    var random = SplitMix64(seed: configuration.seed)
    keys.shuffle(using: &random)
    stableKeys = Array(keys.prefix(configuration.stableDevices))
    let churnKeys = Array(
      keys.dropFirst(configuration.stableDevices).prefix(configuration.churnDevices))

    let portBus = IOBus(flavor: Flavor.self, space: .portIO)
    let mmioBus = IOBus(flavor: Flavor.self)
    registrar = Registrar(
      mirror: configuration.kernelIOEventFD
        ? KernelIOEventFDMirror(vm: guest.vm, portBus: portBus, mmioBus: mmioBus) : nil,
      portBus: portBus, mmioBus: mmioBus)
    ledger = try EventLedger(consumers: 1, violations: violations, shortfalls: shortfalls)
    sections = SectionEpochs(
      vcpus: configuration.vcpus
        + (configuration.coalesced ? GuestCoalescing<Flavor>.sectionSlots(configuration) : 0))
    // KVM's registration ioctls, for the eventfds and the zones alike, go through one gate.
    let changeGate =
      configuration.kernelIOEventFD || configuration.coalesced ? ChangeGate(limit: 2) : nil
    coalescing =
      configuration.coalesced
      ? try GuestCoalescing(
        configuration: configuration, guest: guest, portBus: portBus, mmioBus: mmioBus,
        sections: sections, firstSection: configuration.vcpus, violations: violations,
        shortfalls: shortfalls, changeGate: changeGate) : nil
    hotplug = Hotplug(
      target: GuestChurnTarget(
        registrar: registrar, keys: churnKeys, ledger: ledger, changeGate: changeGate),
      threads: configuration.hotplugThreads, sections: sections, violations: violations,
      shortfalls: shortfalls, seed: configuration.seed &+ 0x9E37_79B9,
      skipEvery: configuration.fault == .skipGracePeriod ? configuration.faultRate : 0)
  }

  func run() throws -> GuestChurnReport {
    PhaseTrace.note("guest and buses made; stable pairs", budget: budget)
    let stable = try registerStable()
    PhaseTrace.note("stable coalesced ranges", budget: budget)
    try coalescing?.registerStable()
    PhaseTrace.note("threads", budget: budget)
    let handlers = (0..<configuration.vcpus).map { vcpu in
      CheckedExitHandler(
        buses: BusExitHandler(portBus: registrar.portBus, mmioBus: registrar.mmioBus),
        sections: sections, vcpu: vcpu, seed: configuration.seed, coalesced: coalescing?.checks,
        ownDrain: coalescing?.ownDrain, hold: coalescing?.hold)
    }
    try ledger.startConsumers()
    let epochs = sections
    let watchdog = try StallWatchdog(
      timeout: configuration.stallTimeout, violations: violations, shortfalls: shortfalls,
      census: { epochs.census() })
    defer { watchdog.stop() }
    let hotplugThreads =
      try hotplug.start(until: stopHotplug, watchdog: watchdog)
      + (coalescing?.hotplug.start(until: stopHotplug, watchdog: watchdog) ?? [])
    let settler = try startThreads(1, named: "settler") { _ in self.settle() }
    violations.startClock()
    let progress = try Progress { elapsed in
      String(
        format: "kvm %.0fs: %d guest rounds, %.0f registrations/s, %d violations", elapsed,
        self.roundsDone.load(ordering: .relaxed),
        Double(self.hotplug.counters[.registrations]) / elapsed, self.violations.count)
    }
    PhaseTrace.note("set up; guest rounds", budget: budget)
    let rounds = runRounds(handlers, running: monotonicNanoseconds())
    PhaseTrace.note("\(rounds.count) guest round(s) done; winding down", budget: budget)
    stopHotplug.set()
    let settled = windDown(
      threads: hotplugThreads + settler, stable: rounds.abandoned ? nil : stable,
      watchdog: watchdog)
    PhaseTrace.note("wound down; report", budget: budget)
    progress.stop()
    if case .failure(let error) = rounds.result {
      throw SetupFailure(message: "kvm: guest run failed: \(error)")
    }
    // A round left running still writes its handlers' counts (ThreadSanitizer caught the
    // read): they are not read then, and not judged either (the run did not settle).
    return report(
      stable: Set(stable.map(\.record.key)), rounds: rounds,
      unclaimed: rounds.abandoned ? [:] : mergedUnclaimedWrites(handlers.map(\.buses)),
      coalesced: settled ? try coalescing?.finish(guest: guest) : nil, settled: settled,
      stall: watchdog.summary)
  }

  /// What the guest rounds did.
  struct Rounds {
    var count = 0
    var exits = 0
    var guestTime = Duration.zero
    var result: Result<Void, KVMError> = .success(())
    /// Whether the last round was still running at the budget's last work deadline and was
    /// left running (its vCPU threads end with the process).
    var abandoned = false
  }

  /// Guest rounds until the budget's work deadline (extended, if allowed, until the
  /// minimum of work is done) or a violation; between rounds, the reads are checked. A
  /// round runs to its end once started, so one starts only when the longest so far (times
  /// one and a half) still fits before the deadline: the rounds end on time, and a run
  /// whose first round already took it all has one round.
  private func runRounds(_ handlers: [CheckedExitHandler<Flavor>], running: UInt64) -> Rounds {
    var rounds = Rounds()
    var longest: UInt64 = 0
    let writesPerRound = program.expectedWrites().values.reduce(0, +)
    while rounds.count == 0
      || (!violations.any
        && !budget.workIsOver(
          now: monotonicNanoseconds() + longest / 2 * 3, running: running,
          minimumMet: { [rounds] in
            self.minimumWork(
              executedPerVCPU: writesPerRound * rounds.count, kernelAbsorbed: 1,
              coalesced: try? self.coalescing?.summary(guest: self.guest)
            ).allSatisfy(\.met)
          }))
    {
      do {
        let roundStart = monotonicNanoseconds()
        guard let statistics = try round(handlers, started: roundStart, longest: longest) else {
          rounds.abandoned = true
          break
        }
        let took = monotonicNanoseconds() - roundStart
        longest = max(longest, took)
        rounds.guestTime += .nanoseconds(Int64(took))
        rounds.count += 1
        roundsDone.store(rounds.count, ordering: .relaxed)
        for vcpu in statistics { rounds.exits += vcpu.exits }
        coalescing?.checkRound(handlers, statistics)
      } catch {
        rounds.result = .failure(error)
        break
      }
      GuestChurn.checkReads(guest: guest, program: program, violations: violations)
    }
    return rounds
  }

  /// One guest round, run on a thread of its own so that waiting for it ends at the budget's
  /// last work deadline: a round cannot be cut short, and starved vCPUs (nice 10 beside CPU
  /// hogs, a liburcu-signal grace period interrupting KVM_RUN) once made one take seconds
  /// past the run's end. Nil when it was still running then: it is left running, a `time`
  /// shortfall.
  private func round(_ handlers: [CheckedExitHandler<Flavor>], started: UInt64, longest: UInt64)
    throws(KVMError) -> [RunStatistics]?
  {
    let guest = guest
    guard
      let result = StressKit.result(
        by: budget.lastWorkDeadline,
        { () -> Result<[RunStatistics], KVMError> in
          Result { () throws(KVMError) in try guest.run(handlers: handlers) }
        })
    else {
      shortfalls.record(
        .time,
        "a guest round started \(String(format: "%.2f", Double(started &- budget.started) / 1e9)) s "
          + "into the run (the longest before it took "
          + String(format: "%.2f s", Double(longest) / 1e9)
          + ") was still running when the time ran out; it was left running, and the stable "
          + "pairs and the counts were left as they were")
      return nil
    }
    return try result.get()
  }

  /// Registers the stable pairs, until half the run's duration has passed since the process
  /// started: with KVM_IOEVENTFD, each registration waits for a KVM SRCU grace period (5 to
  /// 8 ms beside two CPU hogs, 512 of them took 4 s), and a run whose setup took its whole
  /// budget had no time left for its guests. The pairs left out are a `time` shortfall.
  private func registerStable() throws -> [GuestChurnTarget<Flavor>.Plug] {
    let deadline = budget.started &+ UInt64(budget.nominal / 2 * 1e9)
    var stable: [GuestChurnTarget<Flavor>.Plug] = []
    for (slot, key) in stableKeys.enumerated() {
      if monotonicNanoseconds() >= deadline {
        shortfalls.record(
          .time,
          "registered \(slot) of \(stableKeys.count) stable pairs by half the duration; the "
            + "rest were left out")
        break
      }
      stable.append(try hotplug.target.plug(key, slot: slot, churned: false))
    }
    return stable
  }

  /// After the rounds: stops the hotplug and settler threads, unregisters the stable pairs
  /// and ranges, and waits for the final barrier, by the budget's wind-down deadline.
  /// Returns whether everything ended, so the counts may be reconciled; otherwise the
  /// shortfall says what was still busy, and no count is compared. `stable` is nil when a
  /// guest round was left running: its vCPUs still write to the stable pairs and ranges,
  /// which stay registered (unregistered, they would take no write: a false lost signal).
  private func windDown(
    threads: [RunThread], stable: [GuestChurnTarget<Flavor>.Plug]?, watchdog: StallWatchdog
  ) -> Bool {
    let deadline = budget.windDownDeadline
    // The final unregisters and barrier wait under the watchdog's eye: a stall there is a
    // `stall`, not only a run out of time.
    let slot = watchdog.slot("main (final unregisters and barrier)")
    let busy = threads.join(until: deadline, givingUp: watchdog.givingUp)
    hotplug.abandon()
    coalescing?.hotplug.abandon()
    guard busy == 0 else {
      shortfalls.record(
        .time,
        "\(busy) hotplug thread(s) were still inside an update when the time ran out; the "
          + "counts were not reconciled")
      return false
    }
    guard let stable else {
      // The consumers end, the vCPUs' eventfds keep their counts.
      _ = ledger.stopConsumers(until: deadline)
      return false
    }
    let ended = finishes(by: deadline, givingUp: watchdog.givingUp) { [self] in
      for plug in stable {
        do {
          try slot.waiting(for: .synchronousRemoval) {
            try registrar.unregister(plug.token, wait: .synchronous)
          }
          ledger.retire(plug.record)
        } catch {
          violations.record(.hotplugFailure, "stable unregister: \(error)")
        }
      }
      coalescing?.unregisterStable()
    }
    guard ended, ledger.stopConsumers(until: deadline),
      finishes(
        by: deadline, givingUp: watchdog.givingUp,
        { slot.waiting(for: .barrier) { Flavor.barrier() } })
    else {
      shortfalls.record(
        .time,
        "the final unregisters, consumers or barrier() had not ended when the time ran out; "
          + "the counts were not reconciled")
      return false
    }
    fold(ledger.settle(settledFor: 0))
    fold(ledger.drainAll())
    checkReleased()
    return true
  }

  /// Settles retired eventfds while the guests run (a round can take a while, and the
  /// hotplug threads retire thousands of eventfds a second), so the run holds a bounded
  /// number of descriptors.
  private func settle() {
    while !stopHotplug.isSet {
      usleep(10_000)
      fold(ledger.settle(settledFor: 200_000_000))
    }
  }

  /// Adds settled records' signals to their pair's total (the bus must let go of their
  /// eventfds by the final barrier: see `checkReleased`).
  private func fold(_ records: [EventRecord<GuestWrite>]) {
    drained.withAnnotatedLock(owner: self) { totals in
      for record in records { totals[record.key, default: 0] += Int(record.drained) }
    }
    for record in records { _ = ledger.releasedByBus(record) }
  }

  /// After the final barrier, every deferred reclamation has run: the bus must hold none
  /// of the eventfds any more.
  private func checkReleased() {
    for record in ledger.takeAwaitingRelease() where record.busDevice != nil {
      violations.record(
        .reclamation,
        "the bus still holds the eventfd of \(record.registration.id) after its unregister and a final barrier"
      )
    }
  }
}
