import ConcurrentBus
import RCU
import Synchronization

/// One plugged churn slot: an eventfd and a range device, registered on one bus.
struct ChurnPlug: Sendable {
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
  private let updates = Atomic<Int>(0)
  private let nextConsumer = Atomic<Int>(0)

  var supportsBatches: Bool { true }
  var supportsDeferredRemovals: Bool { true }

  init(
    bus: IOBus<Flavor>, ledger: EventLedger<RegistrationID>, violations: Violations,
    slots: Int, fault: ChurnFault, dropVictim: Registration?
  ) {
    self.bus = bus
    self.ledger = ledger
    self.violations = violations
    self.slotCount = slots
    self.fault = fault
    self.dropVictim = dropVictim
  }

  func slot(of plug: ChurnPlug) -> Int { plug.slot }

  /// A slot's fresh devices before registration.
  private struct Fresh {
    let slot: Int
    let eventFD: EventFD
    let device: PoisonDevice
  }

  func update(adding: [Int], removing: [ChurnPlug], batched: Bool, wait: RemovalWait) throws
    -> [ChurnPlug]
  {
    dropEntryNow(update: updates.add(1, ordering: .relaxed).newValue)
    for plug in removing { closeBeforeGracePeriod(plug.event.eventFD) }
    let fresh = try adding.map { slot throws(EventFDError) in
      Fresh(slot: slot, eventFD: try EventFD(), device: PoisonDevice(violations: violations))
    }
    let added =
      batched
      ? try batch(fresh, removing: removing, wait: wait)
      : try single(fresh, removing: removing, wait: wait)
    return try zip(fresh, added).map { item, registrations throws(EventFDError) in
      let (event, range) = registrations
      let consumer = nextConsumer.add(1, ordering: .relaxed).newValue % ledger.consumers
      let record = EventRecord(
        eventFD: item.eventFD, key: event.id, registration: event, churned: true,
        consumer: consumer, busDevice: bus.device(of: event) as? IOEventFD)
      try ledger.add(record)
      item.device.attach(range.id)
      return ChurnPlug(slot: item.slot, event: record, range: item.device, rangeRegistration: range)
    }
  }

  /// The single-call API: one publish (and, for a synchronous removal, one grace period)
  /// per registration.
  private func single(_ fresh: [Fresh], removing: [ChurnPlug], wait: RemovalWait) throws
    -> [(Registration, Registration)]
  {
    let added = try fresh.map { item throws(IOBusError) in
      try register(item, eventFD: bus.registerEventFD, range: bus.register)
    }
    switch wait {
    case .synchronous:
      for plug in removing {
        try bus.unregister(plug.event.registration)
        try bus.unregister(plug.rangeRegistration)
      }
    case .deferred(let release):
      let countdown = ReleaseCountdown(2 * removing.count, release: release)
      for plug in removing {
        try bus.unregister(plug.event.registration) { countdown.arrive() }
        try bus.unregister(plug.rangeRegistration) { countdown.arrive() }
      }
    }
    return added
  }

  /// One batch: every removal and registration in one publish and at most one grace period.
  private func batch(_ fresh: [Fresh], removing: [ChurnPlug], wait: RemovalWait) throws
    -> [(Registration, Registration)]
  {
    let reclaim: IOBus<Flavor>.Reclamation
    switch wait {
    case .synchronous: reclaim = .synchronous
    case .deferred(let release): reclaim = .deferred(release)
    }
    return try bus.update(reclaim: reclaim) { (tx: inout IOBusTransaction) throws(IOBusError) in
      for plug in removing {
        try tx.unregister(plug.event.registration)
        try tx.unregister(plug.rangeRegistration)
      }
      var added: [(Registration, Registration)] = []
      for item in fresh {
        added.append(
          try register(
            item,
            eventFD: { (eventFD, address, size, match) throws(IOBusError) in
              try tx.registerEventFD(eventFD, address: address, size: size, match: match)
            },
            range: { (device, base, length) throws(IOBusError) in
              try tx.register(device, base: base, length: length)
            }))
      }
      return added
    }
  }

  /// Registers a fresh slot's eventfd and range device at the slot's place, through the
  /// bus's single calls or a batch's.
  private func register(
    _ item: Fresh,
    eventFD: (EventFD, UInt64, Int, ValueMatch) throws(IOBusError) -> Registration,
    range: (any IODevice, UInt64, UInt64) throws(IOBusError) -> Registration
  ) throws(IOBusError) -> (Registration, Registration) {
    (
      try eventFD(
        item.eventFD, ChurnLayout.churnEventAddress(item.slot), ChurnLayout.accessSize,
        .value(ChurnLayout.churnValue)),
      try range(item.device, ChurnLayout.churnRangeBase(item.slot), ChurnLayout.churnRangeLength)
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
