import ConcurrentBus
import HostSupport
import Foundation
import Glibc
import Histogram
import RCU
import Synchronization

/// One churn run on one RCU flavor: vCPU threads dispatch to stable and churned
/// registrations, hotplug threads register and unregister the churned ones, consumer
/// threads drain every eventfd through epoll; afterwards every count is reconciled.
public final class ChurnRun<Flavor: RCUFlavor>: Sendable {
  let configuration: ChurnConfiguration
  let bus = IOBus(flavor: Flavor.self)
  let violations = Violations()
  let records = EventRecords()
  let ledger: ClaimLedger
  private let releasedEventFDs = Atomic<Int>(0)
  let counters = ShardedCounters<ChurnCounter>()
  let pollers: [EventPoller]
  let model: Registration
  let stable: [EventRecord]
  private let stopDispatch = StopFlag()
  private let stopConsumers = StopFlag()
  private let gracePeriodWaits = Mutex(Histogram<UInt64>(highestTrackableValue: 120_000_000_000))
  private let vcpuResults = Mutex<[VCPUTally]>([])
  /// For each consumer, when its last completed poll cycle began. A retired eventfd left
  /// its poller before being drained at retirement, so once every consumer has completed a
  /// cycle that began after that, no consumer can still hold a count for it.
  private let consumerCycles: Mutex<[UInt64]>

  /// What one vCPU thread saw (churned claims go to the ledger as it runs).
  struct VCPUTally {
    var stableClaims: [UInt64]
    var dispatches: UInt64 = 0
  }

  public init(_ configuration: ChurnConfiguration) throws {
    self.configuration = configuration
    ledger = ClaimLedger(vcpus: configuration.vcpus)
    consumerCycles = Mutex(Array(repeating: 0, count: configuration.consumers))
    do {
      pollers = try (0..<configuration.consumers).map { _ throws(EventFDError) in try EventPoller()
      }
    } catch {
      throw SetupFailure(message: "cannot create an epoll poller: \(error)")
    }
    do {
      let eventFDs = try (0..<configuration.devices).map { _ throws(EventFDError) in try EventFD() }
      let bus = self.bus
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
      stable = zip(eventFDs, registrations).enumerated().map { index, pair in
        EventRecord(
          eventFD: pair.0, registration: pair.1, churned: false,
          consumer: index % configuration.consumers,
          busDevice: bus.device(of: pair.1) as? IOEventFD)
      }
      for record in stable {
        records.insert(record)
        try pollers[record.consumer].add(record.eventFD)
      }
    } catch {
      throw SetupFailure(message: "cannot set up the stable registrations: \(error)")
    }
  }

  /// Runs for the configured duration (or until a violation) and returns the report.
  public func run() throws -> ChurnReport {
    let started = monotonicNanoseconds()
    let c = configuration
    let consumers = try startThreads(c.consumers, named: "consumer") { self.consume($0) }
    let vcpus = try startThreads(c.vcpus, named: "vCPU") { self.dispatch(vcpu: $0) }
    let hotplugs = try startThreads(c.hotplug, named: "hotplug") { self.churn(thread: $0) }
    let progress = try Progress { elapsed in
      let dispatches = Double(self.counters[.dispatches])
      let updates = Double(self.counters[.singleUpdates] + self.counters[.batchedUpdates])
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
      reconcileRetired(settledFor: 200_000_000)
      let failed = bus.statistics.failedSignals
      if failed > 0 {
        violations.record(
          .failedSignal, "the bus failed to signal \(failed) matched write(s) during the run")
      }
    }
    let residentAtEnd = currentResidentBytes()
    stopDispatch.set()
    for thread in vcpus + hotplugs { thread.join() }
    let elapsed = Double(monotonicNanoseconds() - started) / 1e9
    stopConsumers.set()
    for thread in consumers { thread.join() }
    progress.stop()
    Flavor.barrier()
    reconcileRetired(settledFor: 0)
    reconcile()
    let held = cleanUp()
    return makeReport(
      elapsed: elapsed, released: releasedEventFDs.load(ordering: .relaxed), held: held,
      resident: (residentAfter30s, residentAtEnd))
  }

  // MARK: - vCPU threads

  private func dispatch(vcpu: Int) {
    Flavor.registerCurrentThread()
    defer { Flavor.unregisterCurrentThread() }
    let c = configuration
    var rng = SplitMix64(seed: c.seed &+ UInt64(vcpu + 1) &* 0x9E37_79B9_7F4A_7C15)
    var tally = VCPUTally(stableClaims: Array(repeating: 0, count: c.devices))
    let stableIDs = stable.map(\.registration.id)
    let modelID = model.id
    var claimed: UInt64 = 0
    var churnClaims: [RegistrationID: UInt64] = [:]
    var rounds = 0
    while !stopDispatch.isSet {
      for _ in 0..<256 {
        let random = rng.next()
        let pick = Int(truncatingIfNeeded: (random >> 16) & 0xFFFF)
        let result: DispatchResult
        switch random % 20 {
        case 0..<8:
          let index = pick % c.devices
          result = bus.write(
            address: ChurnLayout.stableAddress(index), size: ChurnLayout.accessSize,
            value: ChurnLayout.stableValue(index))
          if result == .claimed(stableIDs[index]) {
            tally.stableClaims[index] += 1
          } else {
            violations.record(
              .lostSignal,
              "vCPU \(vcpu): matching write to stable registration \(stableIDs[index]) answered \(result)"
            )
          }
        case 8..<11:
          let index = pick % c.devices
          result = bus.write(
            address: ChurnLayout.stableAddress(index), size: ChurnLayout.accessSize,
            value: ChurnLayout.stableMismatch(index))
          checkFallThrough(
            result, vcpu: vcpu, modelID: modelID, what: "non-matching write at a stable address")
        case 11..<16:
          result = bus.write(
            address: ChurnLayout.churnEventAddress(pick % c.churnDevices),
            size: ChurnLayout.accessSize,
            value: ChurnLayout.churnValue)
          switch result {
          case .claimed(let id) where id != modelID: churnClaims[id, default: 0] += 1
          case .claimed: break
          case .unclaimed:
            violations.record(
              .lostSignal, "vCPU \(vcpu): a churned eventfd address fell through to nothing")
          }
        case 16..<18:
          result = bus.write(
            address: ChurnLayout.churnEventAddress(pick % c.churnDevices),
            size: ChurnLayout.accessSize,
            value: ChurnLayout.churnMismatch)
          checkFallThrough(
            result, vcpu: vcpu, modelID: modelID, what: "non-matching write at a churned address")
        default:
          let address = ChurnLayout.churnRangeBase(pick % c.churnDevices) + UInt64(pick % 1024) * 4
          if random & (1 << 40) == 0 {
            result = bus.write(address: address, size: ChurnLayout.accessSize, value: random)
          } else {
            result =
              bus.read(address: address, size: ChurnLayout.accessSize) == nil
              ? .unclaimed : .claimed(modelID)
          }
        }
        if result != .unclaimed { claimed &+= 1 }
      }
      tally.dispatches &+= 256
      counters.add(.dispatches, 256)
      rounds += 1
      if rounds % 64 == 0 {
        ledger.flush(churnClaims, vcpu: vcpu)
        churnClaims.removeAll(keepingCapacity: true)
      }
    }
    ledger.flush(churnClaims, vcpu: vcpu)
    counters.add(.claimed, claimed)
    counters.add(.unclaimed, tally.dispatches - claimed)
    vcpuResults.withLock { $0.append(tally) }
  }

  @inline(__always)
  private func checkFallThrough(
    _ result: DispatchResult, vcpu: Int, modelID: RegistrationID, what: String
  ) {
    guard result != .claimed(modelID) else { return }
    if case .claimed(let id) = result {
      violations.record(.spuriousSignal, "vCPU \(vcpu): \(what) was claimed by registration \(id)")
    } else {
      violations.record(
        .lostSignal, "vCPU \(vcpu): \(what) did not fall through to the device model")
    }
  }

  // MARK: - Hotplug threads

  /// A churned slot while it is registered.
  private struct Plugged: Sendable {
    let event: EventRecord
    let range: PoisonDevice
    let rangeRegistration: Registration
  }

  private func churn(thread: Int) {
    let c = configuration
    let owned = Array(stride(from: thread, to: c.churnDevices, by: c.hotplug))
    guard !owned.isEmpty else { return }
    var rng = SplitMix64(seed: c.seed ^ (UInt64(thread + 1) &* 0xD1B5_4A32_D192_ED03))
    var plugged: [Int: Plugged] = [:]
    var consumer = thread
    var updates = 0
    while !stopDispatch.isSet {
      if thread == 0 { dropStableEntry(update: updates) }
      updates += 1
      let batch = rng.next() % 4 == 0 ? Int(2 + rng.next() % 3) : 1
      let chosen = Array(Set((0..<batch).map { _ in owned[Int(rng.next() % UInt64(owned.count))] }))
      let adding = chosen.filter { plugged[$0] == nil }
      let removing = chosen.compactMap { slot in plugged[slot].map { (slot, $0) } }
      let deferred = rng.next() % 3 == 0
      do {
        var fresh: [(slot: Int, eventFD: EventFD, device: PoisonDevice)] = []
        for slot in adding {
          fresh.append((slot, try EventFD(), PoisonDevice(violations: violations)))
        }
        let added: [(Int, Registration, Registration)]
        if chosen.count == 1 {
          added = try single(adding: fresh, removing: removing.map(\.1), deferred: deferred)
        } else {
          added = try batched(adding: fresh, removing: removing.map(\.1), deferred: deferred)
        }
        for (slot, _) in removing { plugged[slot] = nil }
        for ((slot, eventRegistration, rangeRegistration), item) in zip(added, fresh) {
          consumer = (consumer + 1) % c.consumers
          let record = EventRecord(
            eventFD: item.eventFD, registration: eventRegistration, churned: true,
            consumer: consumer,
            busDevice: bus.device(of: eventRegistration) as? IOEventFD)
          records.insert(record)
          try pollers[consumer].add(item.eventFD)
          item.device.attach(rangeRegistration.id)
          plugged[slot] = Plugged(
            event: record, range: item.device, rangeRegistration: rangeRegistration)
        }
        counters.add(.registrations, UInt64(added.count))
      } catch {
        violations.record(.reclamation, "hotplug \(thread): unexpected error \(error)")
        return
      }
    }
  }

  private func single(
    adding fresh: [(slot: Int, eventFD: EventFD, device: PoisonDevice)], removing: [Plugged],
    deferred: Bool
  ) throws -> [(Int, Registration, Registration)] {
    var added: [(Int, Registration, Registration)] = []
    for item in fresh {
      let event = try bus.registerEventFD(
        item.eventFD, address: ChurnLayout.churnEventAddress(item.slot),
        size: ChurnLayout.accessSize,
        match: .value(ChurnLayout.churnValue))
      let range = try bus.register(
        item.device, base: ChurnLayout.churnRangeBase(item.slot),
        length: ChurnLayout.churnRangeLength)
      counters.add(.singleUpdates, 2)
      added.append((item.slot, event, range))
    }
    for plugged in removing {
      counters.add(.singleUpdates, 2)
      closeBeforeGracePeriod(plugged.event.eventFD)
      if deferred || configuration.fault == .skipGracePeriod {
        counters.add(.deferredUnregisters, 2)
        try bus.unregister(plugged.event.registration) { [self] in
          if configuration.fault != .skipGracePeriod { retire(plugged.event) }
        }
        try bus.unregister(plugged.rangeRegistration) { [self] in
          if configuration.fault != .skipGracePeriod { plugged.range.poison() }
        }
        if configuration.fault == .skipGracePeriod {
          retire(plugged.event)
          plugged.range.poison()
        }
      } else {
        counters.add(.synchronousUnregisters, 2)
        try timed { try bus.unregister(plugged.event.registration) }
        retire(plugged.event)
        try timed { try bus.unregister(plugged.rangeRegistration) }
        plugged.range.poison()
      }
    }
    return added
  }

  private func batched(
    adding fresh: [(slot: Int, eventFD: EventFD, device: PoisonDevice)], removing: [Plugged],
    deferred: Bool
  ) throws -> [(Int, Registration, Registration)] {
    counters.add(.batchedUpdates)
    let skip = configuration.fault == .skipGracePeriod
    let release: @Sendable () -> Void = { [self] in
      for plugged in removing {
        retire(plugged.event)
        plugged.range.poison()
      }
    }
    let reclaim: IOBus<Flavor>.Reclamation
    if skip {
      reclaim = .deferred({})
    } else if deferred {
      reclaim = .deferred(release)
    } else {
      reclaim = .synchronous
    }
    if deferred || skip {
      counters.add(.deferredUnregisters, UInt64(removing.count * 2))
    } else if !removing.isEmpty {
      counters.add(.synchronousUnregisters, UInt64(removing.count * 2))
    }
    for plugged in removing { closeBeforeGracePeriod(plugged.event.eventFD) }
    let start = monotonicNanoseconds()
    let added = try bus.update(reclaim: reclaim) {
      (tx: inout IOBusTransaction) throws(IOBusError) in
      for plugged in removing {
        try tx.unregister(plugged.event.registration)
        try tx.unregister(plugged.rangeRegistration)
      }
      var added: [(Int, Registration, Registration)] = []
      for item in fresh {
        let event = try tx.registerEventFD(
          item.eventFD, address: ChurnLayout.churnEventAddress(item.slot),
          size: ChurnLayout.accessSize,
          match: .value(ChurnLayout.churnValue))
        let range = try tx.register(
          item.device, base: ChurnLayout.churnRangeBase(item.slot),
          length: ChurnLayout.churnRangeLength)
        added.append((item.slot, event, range))
      }
      return added
    }
    if !removing.isEmpty && !deferred && !skip {
      recordWait(since: start)
      release()
    }
    if skip { release() }
    return added
  }

  /// Takes the signals pending on an eventfd whose unregister returned, then marks it: any
  /// signal found on it from now on is a reader the grace period failed to wait for.
  private func retire(_ record: EventRecord) {
    try? pollers[record.consumer].remove(record.eventFD)
    record.addDrained(record.eventFD.drain())
    record.retire()
    records.queueRetired(record)
  }

  private func timed(_ body: () throws -> Void) throws {
    let start = monotonicNanoseconds()
    try body()
    recordWait(since: start)
  }

  private func recordWait(since start: UInt64) {
    let waited = monotonicNanoseconds() - start
    gracePeriodWaits.withLock { _ = $0.record(waited) }
  }

  // MARK: - Consumer threads

  private func consume(_ index: Int) {
    let poller = pollers[index]
    while !stopConsumers.isSet {
      let cycle = monotonicNanoseconds()
      let ready = (try? poller.wait(timeout: .milliseconds(20))) ?? []
      for (eventFD, count) in ready {
        guard let record = records.record(for: eventFD) else {
          violations.record(
            .lostSignal,
            "consumer \(index) drained \(count) signal(s) from an eventfd with no record")
          continue
        }
        record.addDrained(count)
      }
      consumerCycles.withLock { $0[index] = cycle }
    }
  }

  // MARK: - The end

  /// Reconciles retired registrations that every vCPU has flushed its claims for since
  /// they retired (and that have been retired for `settledFor` nanoseconds), then lets go of
  /// them, so a long run holds a bounded number of records and descriptors.
  private func reconcileRetired(settledFor: UInt64) {
    let flushedBy = min(ledger.everyoneFlushedBy, consumerCycles.withLock { $0.min() ?? 0 })
    let now = monotonicNanoseconds()
    let ready = records.takeRetired { record in
      settledFor == 0 || (record.retiredTime < flushedBy && record.retiredTime + settledFor < now)
    }
    for record in ready {
      checkLateSignals(record)
      compare(record, claims: ledger.take(record.registration.id))
      if record.busDevice == nil {
        releasedEventFDs.add(1, ordering: .relaxed)
      } else {
        violations.record(
          .reclamation,
          "the bus still holds the eventfd of \(record.registration.id) after its unregister")
      }
    }
  }

  /// Anything found on a retired registration's eventfd arrived after its unregister returned.
  private func checkLateSignals(_ record: EventRecord) {
    let late = record.eventFD.drain()
    guard late > 0 else { return }
    violations.record(
      .useAfterUnregister,
      "eventfd registration \(record.registration.id) was signalled \(late) time(s) after its unregister returned"
    )
    record.addDrained(late)
  }

  /// Final drains of the registrations still on the bus, then every count reconciled.
  private func reconcile() {
    var stableClaims = [UInt64](repeating: 0, count: configuration.devices)
    for tally in vcpuResults.withLock({ $0 }) {
      for index in stableClaims.indices { stableClaims[index] += tally.stableClaims[index] }
    }
    for record in records.all {
      record.addDrained(record.eventFD.drain())
    }
    for (index, record) in stable.enumerated() {
      compare(record, claims: stableClaims[index])
    }
    for record in records.all where record.churned {
      compare(record, claims: ledger.take(record.registration.id))
    }
    for (id, claims) in ledger.takeAll() {
      if records.wasReconciled(id) {
        violations.record(
          .useAfterUnregister,
          "\(claims) write(s) claimed by \(id) after it was unregistered and reconciled")
      } else {
        violations.record(
          .spuriousSignal, "\(claims) write(s) claimed by \(id), which the tool never registered")
      }
    }
  }

  private func compare(_ record: EventRecord, claims: UInt64) {
    let drained = record.drained
    guard drained != claims else { return }
    let kind: ViolationKind = drained < claims ? .lostSignal : .spuriousSignal
    violations.record(
      kind,
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
    let all = records.all
    let held = all.filter { $0.busDevice != nil }.count
    releasedEventFDs.add(all.count - held, ordering: .relaxed)
    if held > 0 {
      violations.record(
        .reclamation, "the bus still holds \(held) eventfd device(s) after unregistering everything"
      )
    }
    let retired = bus.retiredSnapshots
    if retired != 0 {
      violations.record(.reclamation, "\(retired) retired snapshot(s) never reclaimed")
    }
    return held
  }

  private func makeReport(
    elapsed: Double, released: Int, held: Int, resident: (after30s: UInt64?, atEnd: UInt64)
  ) -> ChurnReport {
    let tallies = vcpuResults.withLock { $0 }
    let histogram = gracePeriodWaits.withLock { $0 }
    let singles = counters[.singleUpdates]
    let batches = counters[.batchedUpdates]
    let statistics = bus.statistics
    return ChurnReport(
      configuration: configuration,
      elapsedSeconds: elapsed,
      dispatches: counters[.dispatches],
      dispatchesPerSecondPerVCPU: tallies.map { Double($0.dispatches) / elapsed },
      claimed: counters[.claimed],
      unclaimed: counters[.unclaimed],
      registrations: counters[.registrations],
      singleUpdatesPerSecond: Double(singles) / elapsed,
      batchedUpdatesPerSecond: Double(batches) / elapsed,
      synchronousUnregisters: counters[.synchronousUnregisters],
      deferredUnregisters: counters[.deferredUnregisters],
      gracePeriodWait: LatencySummary(histogram),
      busUnclaimedWrites: statistics.unclaimedWrites,
      busFailedSignals: statistics.failedSignals,
      retiredSnapshotsOutstanding: bus.retiredSnapshots,
      eventFDsReleased: released,
      eventFDsStillHeld: held,
      peakRSSBytes: peakResidentBytes(),
      rssAfter30sBytes: resident.after30s,
      rssAtEndBytes: resident.atEnd,
      violations: violations.summary)
  }
}
