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
  let bus = IOBus(flavor: Flavor.self)
  let violations = Violations()
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
  private let releasedEventFDs = Atomic<Int>(0)

  /// What one vCPU thread saw (churned claims go to the claim ledger as it runs).
  struct VCPUTally {
    var stableClaims: [UInt64]
    var dispatches: UInt64 = 0
  }

  /// Sets up a run: checks the configuration, then registers the device model and the
  /// stable eventfds.
  ///
  /// - Throws: ``OptionError`` for a configuration out of range, ``SetupFailure`` when
  ///   the host refuses something (descriptors, epoll).
  public init(_ configuration: ChurnConfiguration) throws {
    try configuration.validate()
    self.configuration = configuration
    claims = ClaimLedger(vcpus: configuration.vcpus)
    sections = SectionEpochs(vcpus: configuration.vcpus)
    ledger = try EventLedger(consumers: configuration.consumers, violations: violations)
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
      let stable = zip(eventFDs, registrations).enumerated().map { index, pair in
        EventRecord(
          eventFD: pair.0, key: pair.1.id, registration: pair.1, churned: false,
          consumer: index % configuration.consumers,
          busDevice: bus.device(of: pair.1) as? IOEventFD)
      }
      for record in stable { try ledger.add(record) }
      self.stable = stable
    } catch {
      throw SetupFailure(message: "cannot set up the stable registrations: \(error)")
    }
    hotplug = Hotplug(
      target: ChurnTarget(
        bus: bus, ledger: ledger, violations: violations, slots: configuration.churnDevices,
        fault: configuration.fault, dropVictim: stable.first?.registration),
      threads: configuration.hotplug, sections: sections, violations: violations,
      seed: configuration.seed,
      skipEvery: configuration.fault == .skipGracePeriod ? configuration.faultEvery : 0)
    rings =
      configuration.rings == 0
      ? nil
      : try RingChurn(configuration, bus: bus, sections: sections, violations: violations)
  }

  /// Runs for the configured duration (or until a violation) and returns the report.
  public func run() throws -> ChurnReport {
    let c = configuration
    try ledger.startConsumers()
    let sections = self.sections
    let watchdog = try StallWatchdog(
      timeout: c.stallTimeout, violations: violations, census: { sections.census() })
    defer { watchdog.stop() }
    let vcpus = try startThreads(c.vcpus, named: "vCPU") { self.dispatch(vcpu: $0) }
    let hotplugs =
      try hotplug.start(until: stopDispatch, watchdog: watchdog)
      + (rings?.start(until: stopDispatch) ?? [])
    // The clock starts once every thread is running: starting them is not the run.
    let started = monotonicNanoseconds()
    violations.startClock()
    let progress = try Progress { elapsed in
      let dispatches = Double(self.counters[.dispatches])
      let updates = Double(self.hotplug.counters[.updates])
      return String(
        format: "churn %.0fs: %.2fM dispatches/s, %.0f updates/s, RSS %.1f MiB, %d violations",
        elapsed, dispatches / elapsed / 1e6, updates / elapsed,
        Double(currentResidentBytes()) / 1_048_576, self.violations.count)
    }
    let deadline = started + UInt64(c.duration * 1e9)
    var residentAfter30s: UInt64?
    while monotonicNanoseconds() < deadline && !violations.any {
      usleep(10_000)
      if residentAfter30s == nil && monotonicNanoseconds() - started >= 30_000_000_000 {
        residentAfter30s = currentResidentBytes()
      }
      reconcileSettled(settledFor: 200_000_000)
      rings?.reconcileSettled()
      let failed = bus.eventFDStatistics.failedSignals
      if failed > 0 {
        violations.record(
          .failedSignal, "the bus failed to signal \(failed) matched write(s) during the run")
      }
    }
    let residentAtEnd = currentResidentBytes()
    stopDispatch.set()
    let joined = watchdog.join([("vCPU", vcpus), ("hotplug", hotplugs)])
    let elapsed = Double(monotonicNanoseconds() - started) / 1e9
    ledger.stopConsumers()
    progress.stop()
    // A stalled run left threads behind that may hold the writer lock or a section: the
    // final reconciliation, which waits for them, is skipped (the stall is the verdict).
    guard joined, watchdog.bounded(.barrier, thread: "main (final barrier)", { Flavor.barrier() })
    else {
      return makeReport(
        elapsed: elapsed, released: releasedEventFDs.load(ordering: .relaxed), held: 0,
        resident: (residentAfter30s, residentAtEnd), stall: watchdog.summary)
    }
    reconcileSettled(settledFor: 0)
    reconcileRemaining()
    rings?.finish()
    let held = cleanUp()
    return makeReport(
      elapsed: elapsed, released: releasedEventFDs.load(ordering: .relaxed), held: held,
      resident: (residentAfter30s, residentAtEnd), stall: watchdog.summary)
  }

  // MARK: - Reconciliation

  /// Reconciles retired registrations that every vCPU has flushed its claims for since
  /// they retired (and that have been retired for `settledFor` nanoseconds), then lets go
  /// of them, so a long run holds a bounded number of records and descriptors.
  private func reconcileSettled(settledFor: UInt64) {
    for record in ledger.settle(settledFor: settledFor, flushedBy: claims.everyoneFlushedBy) {
      compare(record, claims: claims.take(record.registration.id))
      if ledger.releasedByBus(record) { releasedEventFDs.add(1, ordering: .relaxed) }
    }
  }

  /// Final drains of the registrations still on the bus, then every count reconciled.
  private func reconcileRemaining() {
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

  /// Unregisters everything and checks that the bus let go of every eventfd and snapshot.
  /// Returns how many eventfds the bus still holds (must be 0).
  private func cleanUp() -> Int {
    let remaining = bus.registrations
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

/// What the vCPU threads count, one shard per thread.
enum ChurnCounter: Int, CaseIterable {
  case dispatches
  case claimed
  case unclaimed
  /// Ring writes issued (claimed or not).
  case ringWrites
}
