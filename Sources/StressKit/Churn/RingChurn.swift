import ConcurrentBus
import HostSupport
import RCU
import Synchronization

/// The ring half of a churn run: ring slots that their own hotplug threads register, move
/// and unregister (the engine's ``Hotplug`` over a ``RingTarget``, sharing the run's
/// stale-section check), the consumers that drain them (``RingLedger``), the vCPUs' claims,
/// and the reconciliation of each finished ring against those claims.
final class RingChurn<Flavor: RCUFlavor>: Sendable {
  let slots: Int
  let capacity: Int
  let ledger: RingLedger
  let retirements = RingRetirements()
  let hotplug: Hotplug<RingTarget<Flavor>>
  let claims: ClaimLedger<RingClaims>
  private let violations: Violations
  private let producers: Mutex<[RingProducer?]>
  private let totals = Mutex(RingTotals())

  /// What reconciliation has counted so far.
  struct RingTotals: Sendable {
    var ringsReconciled: UInt64 = 0
    var valuesDelivered: UInt64 = 0
    var valuesLost: UInt64 = 0
    var claimedByVCPU: [Int: UInt64] = [:]
    var reconciledIDs: Set<RegistrationID> = []
  }

  init(
    _ configuration: ChurnConfiguration, bus: IOBus<Flavor>, sections: SectionEpochs,
    violations: Violations
  ) throws(SetupFailure) {
    let c = configuration
    slots = c.rings
    capacity = c.ringCapacity
    self.violations = violations
    claims = ClaimLedger(vcpus: c.vcpus)
    producers = Mutex(Array(repeating: nil, count: c.vcpus))
    ledger = try RingLedger(
      consumers: c.consumers, asyncOneIn: 4,
      faults: RingFaultInjector(fault: c.fault, every: c.faultEvery), violations: violations)
    hotplug = Hotplug(
      target: RingTarget(
        bus: bus, ledger: ledger, retirements: retirements, slots: c.rings,
        capacity: c.ringCapacity, fault: c.fault),
      threads: min(c.hotplug, c.rings), sections: sections, violations: violations,
      seed: c.seed ^ 0x5249_4E47_5249_4E47,
      skipEvery: c.fault == .skipGracePeriod ? c.faultEvery : 0)
  }

  /// Starts the ring consumers and the ring hotplug threads (returned, for joining).
  func start(until stop: StopFlag) throws(SetupFailure) -> [HostThread] {
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

  /// Reconciles the rings that finished before every vCPU's last flush.
  func reconcileSettled() {
    for record in ledger.settle(flushedBy: claims.everyoneFlushedBy) { reconcile(record) }
  }

  /// After the vCPUs and the hotplug threads stopped and a barrier: waits for every ring to
  /// finish, stops the consumers and reconciles everything left.
  func finish() {
    for record in ledger.waitForAll(timeout: 10_000_000_000) {
      violations.record(
        .reclamation,
        "ring slot \(record.slot) (\(record.ring.registration.id)) never finished: the bus "
          + "never sealed it after its unregister, or its last wakeup was lost")
    }
    ledger.stopConsumers()
    for record in ledger.settle(flushedBy: .max) { reconcile(record) }
    let reconciled = totals.withAnnotatedLock(owner: self) { $0.reconciledIDs }
    for (id, claim) in claims.takeAll() {
      let count = claim.byVCPU.values.reduce(0) { $0 + $1.values.count }
      if reconciled.contains(id) {
        violations.record(
          .useAfterUnregister, "\(count) ring write(s) claimed by \(id) after its ring finished")
      } else {
        violations.record(
          .ringDelivery, "\(count) ring write(s) claimed by \(id), which is no ring the tool made")
      }
    }
  }

  /// Compares what a finished ring delivered with what the vCPUs' writes it claimed, vCPU
  /// by vCPU and in order; then checks that no registration of it claimed a write issued
  /// after its retirement, and that the ring recorded nothing after it was sealed.
  private func reconcile(_ record: RingRecord) {
    let (log, drained) = record.delivery
    let producers = producers.withAnnotatedLock(owner: self) { $0 }
    var byVCPU: [Int: RingClaims.VCPUClaims] = [:]
    for (id, retiredAt) in record.registrations {
      for (vcpu, claim) in claims.take(id).byVCPU {
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
    var checked: Set<RingProducer> = []
    for (vcpu, claim) in byVCPU {
      guard let producer = producers[vcpu] else { continue }
      checked.insert(producer)
      report(log.mismatches(of: producer, claimed: claim.values), vcpu: vcpu, record: record)
    }
    for producer in log.delivered.keys where !checked.contains(producer) {
      let vcpu = producers.firstIndex(of: producer)
      report(
        log.mismatches(of: producer, claimed: []), vcpu: vcpu ?? -1, record: record)
    }
    checkNothingAfterSeal(record, drained: drained)
    totals.withAnnotatedLock(owner: self) { totals in
      totals.ringsReconciled += 1
      totals.valuesDelivered += UInt64(log.writes.count)
      totals.valuesLost += log.lost
      for (vcpu, claim) in byVCPU {
        totals.claimedByVCPU[vcpu, default: 0] += UInt64(claim.values.count)
      }
      for (id, _) in record.registrations { totals.reconciledIDs.insert(id) }
    }
  }

  private func report(_ problems: [String], vcpu: Int, record: RingRecord) {
    guard !problems.isEmpty else { return }
    violations.record(
      .ringDelivery,
      "ring slot \(record.slot) (\(record.ring.registration.id)), vCPU \(vcpu) (values are "
        + "vCPU << 48 | its ring write count): " + problems.joined(separator: "; "))
  }

  /// The ring's own counters, kept by its producers inside the device: once the ring is
  /// finished they must equal what its consumer drained. More means a vCPU recorded after
  /// the bus sealed the ring, i.e. was still inside the ring device when the bus let go of
  /// it: the in-device check, for ring devices.
  private func checkNothingAfterSeal(_ record: RingRecord, drained: UInt64) {
    let statistics = record.ring.statistics
    let recorded = statistics.recorded + statistics.lost
    guard recorded != drained else { return }
    violations.record(
      recorded > drained ? .insideAtRelease : .ringDelivery,
      "ring slot \(record.slot) (\(record.ring.registration.id)): its producers recorded "
        + "\(recorded) write(s), its consumer drained \(drained) by the time it was sealed")
  }

  /// What reconciliation counted.
  var reconciled: RingTotals { totals.withAnnotatedLock(owner: self) { $0 } }
}
