import ConcurrentBus
import HostSupport
import RCU
import Synchronization

/// The ring half of a churn run: ring slots that their own hotplug threads register, move
/// and unregister (the engine's ``Hotplug`` over a ``RingTarget``, sharing the run's
/// stale-section check), the consumers that drain them (``RingLedger``), the vCPUs' claims,
/// and the reconciliation of each finished ring against those claims.
///
/// Bounded (``ChurnLimits``): at most `openRings` rings are open at once (the hotplug
/// threads leave slots empty past it), and at most `pendingRingValues` claimed values wait
/// for reconciliation (the vCPUs skip their ring writes past it, ``acceptsRingWrites``).
final class RingChurn<Flavor: RCUFlavor>: Sendable {
  let slots: Int
  let capacity: Int
  let ledger: RingLedger
  let retirements = RingRetirements()
  let hotplug: Hotplug<RingTarget<Flavor>>
  let claims: ClaimLedger<RingClaims>
  let violations: Violations
  let shortfalls: Shortfalls
  private let producers: Mutex<[RingProducer?]>
  private let totals = Mutex(RingTotals())
  /// Claimed ring values flushed by the vCPUs and not yet reconciled.
  private let pendingValues = Atomic<Int>(0)
  private let pendingLimit: Int
  /// Ring writes the vCPUs skipped while too many values awaited reconciliation.
  private let skippedWrites = Atomic<UInt64>(0)

  /// What reconciliation has counted so far.
  struct RingTotals: Sendable {
    var ringsReconciled: UInt64 = 0
    var valuesDelivered: UInt64 = 0
    var valuesLost: UInt64 = 0
    var claimedByVCPU: [Int: UInt64] = [:]
    var reconciledIDs: Set<RegistrationID> = []
  }

  init(
    _ configuration: ChurnConfiguration, limits: ChurnLimits, bus: IOBus<Flavor>,
    sections: SectionEpochs, violations: Violations, shortfalls: Shortfalls
  ) throws(SetupFailure) {
    let c = configuration
    slots = c.rings
    capacity = c.ringCapacity
    self.violations = violations
    self.shortfalls = shortfalls
    pendingLimit = limits.pendingRingValues
    claims = ClaimLedger(vcpus: c.vcpus)
    producers = Mutex(Array(repeating: nil, count: c.vcpus))
    ledger = try RingLedger(
      consumers: c.consumers, asyncOneIn: 4,
      faults: RingFaultInjector(fault: c.fault, every: c.faultEvery), violations: violations,
      shortfalls: shortfalls)
    hotplug = Hotplug(
      target: RingTarget(
        bus: bus, ledger: ledger, retirements: retirements, slots: c.rings,
        capacity: c.ringCapacity, fault: c.fault, openLimit: limits.openRings),
      threads: min(c.hotplug, c.rings), sections: sections, violations: violations,
      shortfalls: shortfalls, seed: c.seed ^ 0x5249_4E47_5249_4E47,
      skipEvery: c.fault == .skipGracePeriod ? c.faultEvery : 0)
  }

  /// Starts the ring consumers and the ring hotplug threads (returned, for joining).
  func start(until stop: StopFlag) throws(SetupFailure) -> [RunThread] {
    try ledger.startConsumers()
    return try hotplug.start(until: stop)
  }

  /// vCPU `vcpu` runs as `producer` on every ring (it keeps its thread, so its slot, for
  /// the whole run).
  func record(producer: RingProducer?, vcpu: Int) {
    guard let producer else {
      violations.record(
        .hotplugFailure, "vCPU \(vcpu) got no ring producer slot: its ring writes are declined")
      return
    }
    producers.withAnnotatedLock(owner: self) { $0[vcpu] = producer }
  }

  /// Whether the vCPUs may write to rings now: not while more claimed values await
  /// reconciliation than the run may hold (they skip their ring writes meanwhile).
  var acceptsRingWrites: Bool { pendingValues.load(ordering: .relaxed) < pendingLimit }

  /// Counts ring writes a vCPU skipped because ``acceptsRingWrites`` was false.
  func skipped(_ count: UInt64) { skippedWrites.add(count, ordering: .relaxed) }

  /// Ring writes the vCPUs skipped for back-pressure.
  var writesSkipped: UInt64 { skippedWrites.load(ordering: .relaxed) }

  /// Hands vCPU `vcpu`'s ring claims since its last flush to the claim ledger.
  func flush(_ claimed: [RegistrationID: RingClaims], vcpu: Int) {
    let values = claimed.values.reduce(0) { $0 + $1.valueCount }
    pendingValues.add(values, ordering: .relaxed)
    claims.flush(claimed, vcpu: vcpu)
  }

  /// Drains the rings no consumer took (the run is their consumer), then reconciles up to
  /// `limit` rings that finished before every vCPU's last flush.
  func reconcileSettled(limit: Int = .max) {
    for record in ledger.orphans { _ = ledger.drainAtTheEnd(record) }
    for record in ledger.settle(flushedBy: claims.everyoneFlushedBy, limit: limit) {
      reconcile(record)
    }
  }

  /// The checks a ring owes once its finished: what it delivered against what the vCPUs'
  /// writes it claimed, vCPU by vCPU and in order; that no registration of it claimed a
  /// write issued after its retirement; that the ring recorded nothing after it was sealed.
  func reconcile(_ record: RingRecord) {
    let (log, drained, statistics) = record.delivery
    let producers = producers.withAnnotatedLock(owner: self) { $0 }
    let registrations = record.registrations
    let taken = claims.take(registrations.map(\.id))
    var byVCPU: [Int: RingClaims.VCPUClaims] = [:]
    var values = 0
    for (id, retiredAt) in registrations {
      for (vcpu, claim) in (taken[id] ?? .none).byVCPU {
        values += claim.values.count
        if let retiredAt, claim.latestRetirementSeen >= retiredAt {
          violations.record(
            .useAfterUnregister,
            "ring registration \(id) (slot \(record.slot)) claimed a write of vCPU \(vcpu) "
              + "issued after its unregister or move returned")
        }
        // A vCPU's claims by an older registration all precede its claims by a newer one:
        // once it has read the table of the move, it never reads an older one.
        byVCPU[vcpu, default: RingClaims.VCPUClaims()].append(claim)
      }
    }
    pendingValues.subtract(values, ordering: .relaxed)
    var checked: Set<RingProducer> = []
    for (vcpu, claim) in byVCPU {
      guard let producer = producers[vcpu] else { continue }
      checked.insert(producer)
      report(log.mismatches(of: producer, claimed: claim.values), vcpu: vcpu, record: record)
    }
    for producer in log.delivered.keys where !checked.contains(producer) {
      let vcpu = producers.firstIndex(of: producer)
      report(log.mismatches(of: producer, claimed: []), vcpu: vcpu ?? -1, record: record)
    }
    if let statistics { checkNothingAfterSeal(record, statistics, drained: drained) }
    totals.withAnnotatedLock(owner: self) { totals in
      totals.ringsReconciled += 1
      totals.valuesDelivered += UInt64(log.writes.count)
      totals.valuesLost += log.lost
      for (vcpu, claim) in byVCPU {
        totals.claimedByVCPU[vcpu, default: 0] += UInt64(claim.values.count)
      }
      for (id, _) in registrations { totals.reconciledIDs.insert(id) }
    }
  }

  private func report(_ problems: [String], vcpu: Int, record: RingRecord) {
    guard !problems.isEmpty else { return }
    violations.record(
      .ringDelivery,
      "ring slot \(record.slot) (\(record.id)), vCPU \(vcpu) (values are "
        + "vCPU << 48 | its ring write count): " + problems.joined(separator: "; "))
  }

  /// The ring's own counters, kept by its producers inside the device: once the ring is
  /// finished they must equal what its consumer drained. More means a vCPU recorded after
  /// the bus sealed the ring, i.e. was still inside the ring device when the bus let go of
  /// it: the in-device check, for ring devices.
  private func checkNothingAfterSeal(
    _ record: RingRecord, _ statistics: ValueRingStatistics, drained: UInt64
  ) {
    let recorded = statistics.recorded + statistics.lost
    guard recorded != drained else { return }
    violations.record(
      recorded > drained ? .insideAtRelease : .ringDelivery,
      "ring slot \(record.slot) (\(record.id)): its producers recorded "
        + "\(recorded) write(s), its consumer drained \(drained) by the time it was sealed")
  }

  /// What reconciliation counted.
  var reconciled: RingTotals { totals.withAnnotatedLock(owner: self) { $0 } }
}

extension RingClaims {
  /// How many values these claims hold, over all vCPUs.
  var valueCount: Int { byVCPU.values.reduce(0) { $0 + $1.values.count } }
}
