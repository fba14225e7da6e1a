import ConcurrentBus
import HostSupport
import KVM
import RCU
import Synchronization

/// What `kvm --coalesced`'s hotplug threads drive: one registration per churned coalesced
/// range, each time with a fresh device. Three plugs in four go through
/// ``KernelCoalescedMirror`` (bus, then zone: the guest's writes stop exiting); the fourth
/// stays on the bus alone (writes exit to it). Removal is the mirror's unregister (zone,
/// drain through an ``UnregisterDrain``, bus), unless a fault replaces it with an order of
/// the engine's (`CoalescedTarget+Faults.swift`); one in ``holdEvery`` holds the vCPUs at
/// their next exit meanwhile (``VCPUHold``), so the ring still holds the range's writes
/// when its zone goes.
final class CoalescedTarget<Flavor: RCUFlavor>: HotplugTarget {
  /// One plugged range.
  struct Plug: HotplugPlug {
    /// The target slot: the churned range's index among the churned ones.
    let slot: Int
    let kind: Kind
    let device: CoalescedSlotDevice<Flavor>
  }

  /// How a range is registered.
  enum Kind: Sendable {
    case coalesced(CoalescedRegistration)
    case busOnly(Registration, GuestAddressSpace)
  }

  let mirror: KernelCoalescedMirror<Flavor>
  let checks: CoalescedChecks<Flavor>
  /// One per target slot: only the hotplug thread owning the slot drains through it.
  let drains: [UnregisterDrain<Flavor>]
  let fault: GuestFault
  let faultEvery: Int
  private let seed: UInt64
  private let plugs = Atomic<UInt64>(0)
  let coalescedUnregisters = Atomic<Int>(0)
  /// Holds the vCPUs for one coalesced unregister in ``holdEvery``.
  let hold: VCPUHold
  static var holdEvery: Int { 2 }
  let changeGate: ChangeGate?

  /// Drains read in `sections` slots `firstSection...` (one per churned range).
  init(
    mirror: KernelCoalescedMirror<Flavor>, checks: CoalescedChecks<Flavor>,
    sections: SectionEpochs, firstSection: Int, hold: VCPUHold, fault: GuestFault,
    faultEvery: Int, seed: UInt64, changeGate: ChangeGate?
  ) {
    self.changeGate = changeGate
    self.mirror = mirror
    self.checks = checks
    self.fault = fault
    self.faultEvery = faultEvery
    self.seed = seed
    self.hold = hold
    drains = (0..<checks.layout.churnedSlots.count).map { index in
      UnregisterDrain(
        checks: checks, sections: sections, section: firstSection + index,
        range: checks.layout.churnedSlots.lowerBound + index, seed: seed)
    }
  }

  var slotCount: Int { checks.layout.churnedSlots.count }
  var supportsBatches: Bool { false }
  /// The mirror's unregister is synchronous; only `skip-grace-period` asks for a deferred
  /// removal (see ``unregisterDeferred(_:plug:release:)``).
  var supportsDeferredRemovals: Bool { false }

  /// The layout slot of target slot `slot`.
  func layoutSlot(_ slot: Int) -> Int { checks.layout.churnedSlots.lowerBound + slot }

  func update(adding: [Int], removing: [Plug], batched: Bool, wait: RemovalWait) throws -> [Plug] {
    let added = try adding.map { try plug($0) }
    for plug in removing { try unplug(plug, wait: wait) }
    return added
  }

  /// Registers a fresh device for target slot `slot`, coalesced or on the bus alone.
  private func plug(_ slot: Int) throws -> Plug {
    let layoutSlot = layoutSlot(slot)
    let range = checks.layout.ranges[layoutSlot]
    let device = CoalescedSlotDevice(slot: layoutSlot, checks: checks)
    var random = SplitMix64(seed: seed ^ plugs.wrappingAdd(1, ordering: .relaxed).newValue)
    if random.next() % 4 == 0 {
      let registration = try mirror.bus(range.space).register(
        device, base: range.address, length: range.length)
      checks.counters.add(.busOnlyRegistrations)
      return Plug(slot: slot, kind: .busOnly(registration, range.space), device: device)
    }
    // Before the zone exists: its entries may be applied from the moment it does.
    checks.allowBufferedWrites(layoutSlot)
    do {
      let registration = try mirror.register(
        device, space: range.space, base: range.address, length: range.length)
      checks.counters.add(.zoneRegistrations)
      return Plug(slot: slot, kind: .coalesced(registration), device: device)
    } catch {
      checks.forbidBufferedWrites(layoutSlot)
      throw error
    }
  }

  private func unplug(_ plug: Plug, wait: RemovalWait) throws {
    switch (plug.kind, wait) {
    case (.busOnly(let registration, let space), _):
      try mirror.bus(space).unregister(registration, wait: wait)
    case (.coalesced(let registration), .deferred(let release)):
      checks.counters.add(.zoneUnregistrations)
      try unregisterDeferred(registration, plug: plug, release: release)
    case (.coalesced(let registration), .synchronous):
      checks.counters.add(.zoneUnregistrations)
      let turn = coalescedUnregisters.wrappingAdd(1, ordering: .relaxed).newValue
      if turn % Self.holdEvery == 0 {
        // Released by the drain once it applied the range's writes, or below if none.
        if hold.hold(waitingUpTo: 5_000_000) { drains[plug.slot].releasesHold = hold }
      }
      defer { drains[plug.slot].releaseHold() }
      if try unregisterWithFault(registration, plug: plug, turn: turn) { return }
      noteDrained(try mirror.unregister(registration, drainingThrough: drains[plug.slot]))
    }
  }

  /// The mirror's order with a deferred bus removal (zone, drain, bus with a release
  /// callback): what `skip-grace-period` needs to release before the grace period.
  private func unregisterDeferred(
    _ registration: CoalescedRegistration, plug: Plug, release: @escaping @Sendable () -> Void
  ) throws {
    try mirror.vm.unregisterCoalescedZone(registration.zone)
    drainRing(plug.slot)
    try mirror.bus(registration.zone.space).unregister(
      registration.registration, whenReleased: release)
  }

  /// Applies what the ring holds through target slot `slot`'s drain, as the mirror does.
  func drainRing(_ slot: Int) {
    guard mirror.ring.hasPendingWrites else { return }
    let drain = drains[slot]
    drain.beginDispatching()
    noteDrained(mirror.ring.drain(through: drain))
    drain.endDispatching()
  }

  private func noteDrained(_ applied: Int) {
    checks.counters.add(.appliedByUnregisters, UInt64(applied))
  }

  /// After the removal's grace period (or at once, under `skip-grace-period`): the device
  /// takes nothing more, and the range holds no buffered write.
  func released(_ plug: Plug, when: String) {
    plug.device.release()
    if case .coalesced = plug.kind { checks.forbidBufferedWrites(layoutSlot(plug.slot)) }
  }
}
