import ConcurrentBus
import RCU
import Synchronization

/// One plugged ring slot: the ring, its registration as the latest move left it, and which
/// of the slot's two places it is at.
struct RingPlug: HotplugPlug {
  let slot: Int
  let record: RingRecord
  let registration: Registration
  let place: Int
}

/// What the ring hotplug threads drive: value rings on the churn bus, exact-address rings
/// on even slots and range rings on odd ones, registered (single calls or batches),
/// moved between the slot's two places, and unregistered (synchronously or with a release
/// callback), each with a fresh wakeup eventfd and its own consumer.
final class RingTarget<Flavor: RCUFlavor>: HotplugTarget {
  let bus: IOBus<Flavor>
  let ledger: RingLedger
  let retirements: RingRetirements
  let slotCount: Int
  let capacity: Int
  /// `ring-early-return`: retirements are counted before the bus call instead of after.
  private let retireEarly: Bool
  /// Open rings past which no ring is registered (``ChurnLimits/openRings``).
  private let openLimit: Int
  private let registered = Atomic<Int>(0)

  var supportsBatches: Bool { true }
  var supportsDeferredRemovals: Bool { true }
  var supportsMoves: Bool { true }

  init(
    bus: IOBus<Flavor>, ledger: RingLedger, retirements: RingRetirements, slots: Int,
    capacity: Int, fault: ChurnFault, openLimit: Int
  ) {
    self.openLimit = openLimit
    self.bus = bus
    self.ledger = ledger
    self.retirements = retirements
    self.slotCount = slots
    self.capacity = capacity
    self.retireEarly = fault == .ringEarlyReturn
  }

  /// A slot's fresh ring before registration.
  private struct Fresh {
    let slot: Int
    let place: Int
    let wakeup: EventFD
  }

  /// Whether `adding` more rings fit: every open ring holds its lanes and its eventfds
  /// until it is sealed and drained.
  func admits(adding: Int) -> Bool { ledger.openRings + adding <= openLimit }

  func update(adding: [Int], removing: [RingPlug], batched: Bool, wait: RemovalWait) throws
    -> [RingPlug]
  {
    let fresh = try adding.map { slot throws(EventFDError) in
      Fresh(
        slot: slot, place: registered.add(1, ordering: .relaxed).newValue % 2, wakeup: try EventFD()
      )
    }
    if retireEarly { retire(removing) }
    let rings =
      batched
      ? try batch(fresh, removing: removing, wait: wait)
      : try single(fresh, removing: removing, wait: wait)
    if !retireEarly { retire(removing) }
    return zip(fresh, rings).map { item, ring in
      let record = ledger.add(ring, slot: item.slot)
      return RingPlug(
        slot: item.slot, record: record, registration: ring.registration, place: item.place)
    }
  }

  /// Moves each plug to its slot's other place: one publish per move, or one for all.
  func move(_ plugs: [RingPlug], batched: Bool) throws -> [RingPlug] {
    if retireEarly { retire(plugs) }
    let moved: [Registration]
    if batched {
      moved = try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
        try plugs.map { plug throws(IOBusError) in
          try tx.move(
            plug.registration, to: RingLayout.origin(slot: plug.slot, place: 1 - plug.place))
        }
      }
    } else {
      moved = try plugs.map { plug throws(IOBusError) in
        try bus.move(
          plug.registration, to: RingLayout.origin(slot: plug.slot, place: 1 - plug.place))
      }
    }
    if !retireEarly { retire(plugs) }
    return zip(plugs, moved).map { plug, registration in
      plug.record.moved(to: registration.id)
      return RingPlug(
        slot: plug.slot, record: plug.record, registration: registration, place: 1 - plug.place)
    }
  }

  /// The single-call API: one publish per registration (and, for a synchronous removal,
  /// one grace period each).
  private func single(_ fresh: [Fresh], removing: [RingPlug], wait: RemovalWait) throws
    -> [ValueRing]
  {
    var bus = self.bus
    let rings = try fresh.map { item throws(IOBusError) in try register(item, on: &bus) }
    let each = wait.split(into: removing.count)
    for plug in removing { try bus.unregister(plug.registration, wait: each) }
    return rings
  }

  /// One batch: every removal and registration in one publish and at most one grace period.
  private func batch(_ fresh: [Fresh], removing: [RingPlug], wait: RemovalWait) throws
    -> [ValueRing]
  {
    try bus.update(reclaim: .init(wait)) { (tx: inout IOBusTransaction) throws(IOBusError) in
      for plug in removing { try tx.unregister(plug.registration) }
      return try fresh.map { item throws(IOBusError) in try register(item, on: &tx) }
    }
  }

  /// Registers a fresh slot's ring at its place, through the bus's single calls or a
  /// batch's: an exact-address ring on even slots, a range ring on odd ones.
  private func register(_ item: Fresh, on registrar: inout some BusRegistrar & ~Copyable)
    throws(IOBusError) -> ValueRing
  {
    let origin = RingLayout.origin(slot: item.slot, place: item.place)
    return RingLayout.isExact(slot: item.slot)
      ? try registrar.registerRing(
        address: origin, size: RingLayout.valueSize, match: .any, capacity: capacity,
        wakeup: item.wakeup)
      : try registrar.registerRing(
        base: origin, length: RingLayout.rangeLength, capacity: capacity, wakeup: item.wakeup)
  }

  /// Counts the plugs' registrations as retired: from now on no write may be claimed by
  /// them (``RingRetirements``).
  private func retire(_ plugs: [RingPlug]) {
    guard !plugs.isEmpty else { return }
    let index = retirements.advance()
    for plug in plugs { plug.record.retire(plug.registration.id, at: index) }
  }

  /// Nothing to check in the ring itself here: the bus seals it when it lets go of the
  /// device, and the ring's consumer finds that (``RingLedger``).
  func released(_ plug: RingPlug, when: String) {}
}
