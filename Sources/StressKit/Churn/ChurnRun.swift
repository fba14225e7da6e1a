import ConcurrentBus
import Foundation
import Glibc
import HostSupport
import RCU
import Synchronization

/// One churn run on one RCU flavor: vCPU threads dispatch to stable and churned
/// registrations, each dispatch inside a read-side section of its own that the
/// stale-section check watches; hotplug threads (the engine's ``Hotplug``) register and
/// unregister the churned ones and check every removal after its grace period; consumer
/// threads drain every eventfd through epoll; value rings come, move and go the same way
/// (``RingChurn``) while consumers drain them; afterwards every count, and every ring
/// value, is reconciled.
public final class ChurnRun<Flavor: RCUFlavor>: Sendable {
  let configuration: ChurnConfiguration
  let limits: ChurnLimits
  let budget: RunBudget
  let bus = IOBus(flavor: Flavor.self)
  let violations = Violations()
  let shortfalls = Shortfalls()
  let ledger: EventLedger<RegistrationID>
  let claims: ClaimLedger<UInt64>
  let sections: SectionEpochs
  let hotplug: Hotplug<ChurnTarget<Flavor>>
  /// The ring slots and their checks, unless the run has no rings.
  let rings: RingChurn<Flavor>?
  let counters = ShardedCounters<ChurnCounter>()
  let model: Registration
  let stable: [EventRecord<RegistrationID>]
  let stopDispatch = StopFlag()
  let vcpuResults = Mutex<[VCPUTally]>([])
  let backlog = BacklogWatch()
  /// Each vCPU's dispatches so far, for the minimum of work while the run goes on.
  let vcpuDispatches: [DispatchCount]
  private let releasedEventFDs = Atomic<Int>(0)

  /// What one vCPU thread saw (churned claims go to the claim ledger as it runs).
  struct VCPUTally {
    var stableClaims: [UInt64]
    var dispatches: UInt64 = 0
  }

  /// Sets up a run: checks the configuration, then registers the device model and the
  /// stable eventfds.
  ///
  /// - Throws: ``OptionError`` for a configuration out of range (the descriptors it needs
  ///   included), ``SetupFailure`` when the host refuses something (descriptors, epoll).
  public init(_ configuration: ChurnConfiguration) throws {
    budget = RunBudget(
      duration: configuration.duration, extension: configuration.minimumWorkWithin,
      teardown: RunBudget.teardownSeconds(
        descriptors: configuration.devices + configuration.churnDevices,
        threads: configuration.threads))
    vcpuDispatches = (0..<configuration.vcpus).map { _ in DispatchCount() }
    try configuration.validate()
    DescriptorLimit.raise()
    limits = try ChurnLimits(configuration)
    self.configuration = configuration
    claims = ClaimLedger(vcpus: configuration.vcpus)
    sections = SectionEpochs(vcpus: configuration.vcpus)
    ledger = try EventLedger(
      consumers: configuration.consumers, violations: violations, shortfalls: shortfalls)
    let bus = self.bus
    do {
      let eventFDs = try (0..<configuration.devices).map { _ throws(EventFDError) in
        try EventFD()
      }
      let (model, registrations) = try bus.update {
        (tx: inout IOBusTransaction) throws(IOBusError) in
        let model = try tx.register(
          ModelDevice(), base: ChurnLayout.modelBase, length: ChurnLayout.modelLength)
        let stable = try eventFDs.enumerated().map { index, eventFD throws(IOBusError) in
          try tx.registerEventFD(
            eventFD, address: ChurnLayout.stableAddress(index), size: ChurnLayout.accessSize,
            match: .value(ChurnLayout.stableValue(index)))
        }
        return (model, stable)
      }
      self.model = model
      // The bus's device is watched (to prove the bus lets go of it) for the first
      // `watchedStableDevices` only: `device(of:)` searches the table, and doing it for
      // every one of 16,256 took seconds of the run's budget.
      let stable = zip(eventFDs, registrations).enumerated().map { index, pair in
        EventRecord(
          eventFD: pair.0, key: pair.1.id, registration: pair.1, churned: false,
          consumer: index % configuration.consumers,
          busDevice: index < Self.watchedStableDevices
            ? bus.device(of: pair.1) as? IOEventFD : nil)
      }
      for record in stable { ledger.add(record) }
      self.stable = stable
    } catch {
      throw SetupFailure(message: "cannot set up the stable registrations: \(error)")
    }
    hotplug = Hotplug(
      target: ChurnTarget(
        bus: bus, ledger: ledger, violations: violations, slots: configuration.churnDevices,
        fault: configuration.fault, dropVictim: stable.first?.registration,
        retiredLimit: limits.retiredEventFDs),
      threads: configuration.hotplug, sections: sections, violations: violations,
      shortfalls: shortfalls, seed: configuration.seed,
      skipEvery: configuration.fault == .skipGracePeriod ? configuration.faultEvery : 0)
    rings =
      configuration.rings == 0
      ? nil
      : try RingChurn(
        configuration, limits: limits, bus: bus, sections: sections, violations: violations,
        shortfalls: shortfalls)
  }

  /// Runs for the configured duration (or until a violation) and returns the report, all
  /// within the run's budget (``RunBudget``): whatever cannot wind down in time is left
  /// behind and named as a shortfall.
  public func run() throws -> ChurnReport {
    let c = configuration
    try ledger.startConsumers()
    let sections = self.sections
    let watchdog = try StallWatchdog(
      timeout: c.stallTimeout, violations: violations, shortfalls: shortfalls,
      census: { sections.census() })
    defer { watchdog.stop() }
    let vcpus = try startThreads(c.vcpus, named: "vCPU", priority: .lowered) {
      self.dispatch(vcpu: $0)
    }
    let hotplugs = try hotplug.start(until: stopDispatch, watchdog: watchdog)
    let ringHotplugs = try rings?.start(until: stopDispatch) ?? []
    // The clock starts once every thread is running: starting them is not the run.
    let started = monotonicNanoseconds()
    PhaseTrace.note("threads running", budget: budget)
    violations.startClock()
    let progress = try Progress { elapsed in
      let dispatches = Double(self.counters[.dispatches])
      let updates = Double(self.hotplug.counters[.updates])
      return String(
        format: "churn %.0fs: %.2fM dispatches/s, %.0f updates/s, RSS %.1f MiB, %d violations",
        elapsed, dispatches / elapsed / 1e6, updates / elapsed,
        Double(currentResidentBytes()) / 1_048_576, self.violations.count)
    }
    var residentAfter30s: UInt64?
    while !violations.any
      && !budget.workIsOver(
        now: monotonicNanoseconds(), running: started,
        minimumMet: { self.work(slowestVCPU: self.slowestVCPU).allSatisfy(\.met) })
    {
      usleep(10_000)
      if residentAfter30s == nil && monotonicNanoseconds() - started >= 30_000_000_000 {
        residentAfter30s = currentResidentBytes()
      }
      reconcileSettled(settledFor: 200_000_000)
      // A bounded share per pass: the back-pressure keeps the backlog bounded, and the
      // deadline is checked at least every 64 rings.
      rings?.reconcileSettled(limit: 64)
      backlog.sample(bus.reclamationBacklog, into: violations)
      let failed = bus.eventFDStatistics.failedSignals
      if failed > 0 {
        violations.record(
          .failedSignal, "the bus failed to signal \(failed) matched write(s) during the run")
      }
    }
    PhaseTrace.note("work over", budget: budget)
    let residentAtEnd = currentResidentBytes()
    stopDispatch.set()
    let end = windDown(
      vcpus: vcpus, hotplugs: hotplugs, ringHotplugs: ringHotplugs, watchdog: watchdog)
    let elapsed = Double(end.dispatchEnded - started) / 1e9
    progress.stop()
    PhaseTrace.note("report", budget: budget)
    return makeReport(
      elapsed: elapsed, startup: Double(started - budget.started) / 1e9,
      released: releasedEventFDs.load(ordering: .relaxed), held: end.held,
      resident: (residentAfter30s, residentAtEnd), backlog: end.backlog,
      stall: watchdog.summary)
  }

  // MARK: - Reconciliation

  /// Reconciles retired registrations that every vCPU has flushed its claims for since
  /// they retired (and that have been retired for `settledFor` nanoseconds), then lets go
  /// of them, so a long run holds a bounded number of records and descriptors.
  func reconcileSettled(settledFor: UInt64) {
    for record in ledger.settle(settledFor: settledFor, flushedBy: claims.everyoneFlushedBy) {
      compare(record, claims: claims.take(record.registration.id))
      if ledger.releasedByBus(record) { releasedEventFDs.add(1, ordering: .relaxed) }
    }
  }

  /// Final drains of the registrations still on the bus, then every count reconciled.
  func reconcileRemaining() {
    var stableClaims = [UInt64](repeating: 0, count: configuration.devices)
    for tally in vcpuResults.withAnnotatedLock(owner: self, { $0 }) {
      for index in stableClaims.indices { stableClaims[index] += tally.stableClaims[index] }
    }
    let remaining = ledger.drainAll()
    for (index, record) in stable.enumerated() {
      compare(record, claims: stableClaims[index])
    }
    for record in remaining where record.churned {
      compare(record, claims: claims.take(record.registration.id))
    }
    for (id, count) in claims.takeAll() {
      if ledger.wasSettled(id) {
        violations.record(
          .useAfterUnregister,
          "\(count) write(s) claimed by \(id) after it was unregistered and reconciled")
      } else {
        violations.record(
          .spuriousSignal, "\(count) write(s) claimed by \(id), which the tool never registered")
      }
    }
  }

  private func compare(_ record: EventRecord<RegistrationID>, claims: UInt64) {
    let drained = record.drained
    guard drained != claims else { return }
    violations.record(
      drained < claims ? .lostSignal : .spuriousSignal,
      "registration \(record.registration.id): \(claims) claimed writes, \(drained) signals drained"
    )
  }

  /// Stable eventfd devices whose release by the bus the run watches (every churned one
  /// is watched).
  static var watchedStableDevices: Int { 1024 }

  /// Unregisters everything and checks that the bus let go of every eventfd and snapshot.
  /// Returns how many eventfds the bus still holds (must be 0).
  func cleanUp() -> Int {
    // In descending table order: each removal is then the cheap end of the sorted arrays
    // (ascending, 16,256 stable registrations took seconds of shifting).
    let remaining = bus.registrations.reversed()
    do {
      try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
        for registration in remaining { try tx.unregister(registration) }
      }
    } catch {
      violations.record(.reclamation, "final unregister failed: \(error)")
    }
    Flavor.barrier()
    // Every deferred reclamation has run: the bus must have let go of every eventfd, the
    // ones still registered a moment ago and the ones it still held when they settled.
    let all = ledger.takeAwaitingRelease() + ledger.drainAll()
    let held = all.filter { $0.busDevice != nil }
    releasedEventFDs.add(all.count - held.count, ordering: .relaxed)
    for record in held {
      violations.record(
        .reclamation,
        "the bus still holds the eventfd of \(record.registration.id) after its unregister and a final barrier"
      )
    }
    let retired = bus.retiredSnapshots
    if retired != 0 {
      violations.record(.reclamation, "\(retired) retired snapshot(s) never reclaimed")
    }
    return held.count
  }
}

/// One vCPU's dispatches, in an object of its own: written by that vCPU once per round.
final class DispatchCount: Sendable {
  let value = Atomic<UInt64>(0)
}

/// What the vCPU threads count, one shard per thread.
enum ChurnCounter: Int, CaseIterable {
  case dispatches
  case claimed
  case unclaimed
  /// Ring writes issued (claimed or not).
  case ringWrites
}
