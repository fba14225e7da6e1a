import ConcurrentBus
import RCU
import Synchronization

/// One plugged churn slot: an eventfd and a range device, registered on one bus.
struct ChurnPlug: HotplugPlug {
  let slot: Int
  let event: EventRecord<RegistrationID>
  let range: PoisonDevice
  let rangeRegistration: Registration
}

/// What churn's hotplug threads drive: eventfd + range device pairs on one bus, changed
/// by single calls (`registerEventFD`, `register`, `unregister`) or in batches (`update`),
/// removed synchronously or with a release callback.
final class ChurnTarget<Flavor: RCUFlavor>: HotplugTarget {
  let bus: IOBus<Flavor>
  let ledger: EventLedger<RegistrationID>
  let violations: Violations
  let slotCount: Int
  let fault: ChurnFault
  /// The stable registration `drop-entry` makes the bus forget.
  let dropVictim: Registration?
  /// Retired eventfds awaiting reconciliation past which no slot is plugged
  /// (``ChurnLimits/retiredEventFDs``).
  let retiredLimit: Int
  private let updates = Atomic<Int>(0)
  private let nextConsumer = Atomic<Int>(0)

  var supportsBatches: Bool { true }
  var supportsDeferredRemovals: Bool { true }

  init(
    bus: IOBus<Flavor>, ledger: EventLedger<RegistrationID>, violations: Violations,
    slots: Int, fault: ChurnFault, dropVictim: Registration?, retiredLimit: Int
  ) {
    self.retiredLimit = retiredLimit
    self.bus = bus
    self.ledger = ledger
    self.violations = violations
    self.slotCount = slots
    self.fault = fault
    self.dropVictim = dropVictim
  }

  /// A slot's fresh devices before registration.
  private struct Fresh {
    let slot: Int
    let eventFD: EventFD
    let device: PoisonDevice
  }

  /// Whether `adding` more slots fit: each new slot's eventfd will retire one day, and
  /// retired ones wait for reconciliation holding their descriptors.
  func admits(adding: Int) -> Bool { ledger.retiredAwaiting + adding <= retiredLimit }

  func update(adding: [Int], removing: [ChurnPlug], batched: Bool, wait: RemovalWait) throws
    -> [ChurnPlug]
  {
    // The eventfds first: running out of descriptors must change nothing.
    let fresh = try adding.map { slot throws(EventFDError) in
      Fresh(slot: slot, eventFD: try EventFD(), device: PoisonDevice(violations: violations))
    }
    dropEntryNow(update: updates.add(1, ordering: .relaxed).newValue)
    for plug in removing { closeBeforeGracePeriod(plug.event.eventFD) }
    let added =
      batched
      ? try batch(fresh, removing: removing, wait: wait)
      : try single(fresh, removing: removing, wait: wait)
    return zip(fresh, added).map { item, registrations in
      let (event, range) = registrations
      let consumer = nextConsumer.add(1, ordering: .relaxed).newValue % ledger.consumers
      let record = EventRecord(
        eventFD: item.eventFD, key: event.id, registration: event, churned: true,
        consumer: consumer, busDevice: bus.device(of: event) as? IOEventFD)
      ledger.add(record)
      item.device.attach(range.id)
      return ChurnPlug(slot: item.slot, event: record, range: item.device, rangeRegistration: range)
    }
  }

  /// The single-call API: one publish (and, for a synchronous removal, one grace period)
  /// per registration.
  private func single(_ fresh: [Fresh], removing: [ChurnPlug], wait: RemovalWait) throws
    -> [(Registration, Registration)]
  {
    var bus = self.bus
    let added = try fresh.map { item throws(IOBusError) in try register(item, on: &bus) }
    let each = wait.split(into: 2 * removing.count)
    for plug in removing {
      try bus.unregister(plug.event.registration, wait: each)
      try bus.unregister(plug.rangeRegistration, wait: each)
    }
    return added
  }

  /// One batch: every removal and registration in one publish and at most one grace period.
  private func batch(_ fresh: [Fresh], removing: [ChurnPlug], wait: RemovalWait) throws
    -> [(Registration, Registration)]
  {
    try bus.update(reclaim: .init(wait)) { (tx: inout IOBusTransaction) throws(IOBusError) in
      for plug in removing {
        try tx.unregister(plug.event.registration)
        try tx.unregister(plug.rangeRegistration)
      }
      return try fresh.map { item throws(IOBusError) in try register(item, on: &tx) }
    }
  }

  /// Registers a fresh slot's eventfd and range device at the slot's place, through the
  /// bus's single calls or a batch's.
  private func register(_ item: Fresh, on registrar: inout some BusRegistrar & ~Copyable)
    throws(IOBusError) -> (Registration, Registration)
  {
    (
      try registrar.registerEventFD(
        item.eventFD, address: ChurnLayout.churnEventAddress(item.slot),
        size: ChurnLayout.accessSize, match: .value(ChurnLayout.churnValue)),
      try registrar.register(
        item.device, base: ChurnLayout.churnRangeBase(item.slot),
        length: ChurnLayout.churnRangeLength)
    )
  }

  /// After the grace period: nobody may be inside the range device (the in-device
  /// counter); then it is poisoned and the eventfd retired, so a later entry or signal is
  /// caught too.
  func released(_ plug: ChurnPlug, when: String) {
    let inside = plug.range.occupancy.count
    if inside != 0 {
      violations.record(
        .insideAtRelease,
        "range registration \(plug.rangeRegistration.id) (slot \(plug.slot)): \(inside) "
          + "thread(s) still inside when \(when)")
    }
    plug.range.poison()
    ledger.retire(plug.event)
  }
}
