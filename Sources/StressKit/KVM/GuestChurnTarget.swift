import ConcurrentBus
import KVM
import RCU

/// Registers eventfds on the buses alone, or on the buses and in the kernel
/// (KVM_IOEVENTFD through ``KernelIOEventFDMirror``).
struct Registrar<Flavor: RCUFlavor>: Sendable {
  /// A live registration.
  enum Token: Sendable {
    case bus(Registration, GuestAddressSpace)
    case mirrored(MirroredRegistration)

    /// The bus registration.
    var registration: Registration {
      switch self {
      case .bus(let registration, _): registration
      case .mirrored(let mirrored): mirrored.registration
      }
    }
  }

  let mirror: KernelIOEventFDMirror<Flavor>?
  let portBus: IOBus<Flavor>
  let mmioBus: IOBus<Flavor>

  /// The bus of `space`.
  func bus(_ space: GuestAddressSpace) -> IOBus<Flavor> { space == .pio ? portBus : mmioBus }

  func register(_ eventFD: EventFD, key: GuestWrite) throws(KernelIOEventFDMirrorError) -> Token {
    if let mirror {
      return .mirrored(
        try mirror.register(
          eventFD, space: key.space, address: key.address, size: key.size, match: .value(key.value)
        ))
    }
    do {
      return .bus(
        try bus(key.space).registerEventFD(
          eventFD, address: key.address, size: key.size, match: .value(key.value)), key.space)
    } catch {
      throw .bus(error)
    }
  }

  /// Unregisters; a deferred removal exists only without the mirror (the kernel side has
  /// no release callback).
  func unregister(_ token: Token, wait: RemovalWait) throws(KernelIOEventFDMirrorError) {
    switch token {
    case .mirrored(let registration):
      try mirror!.unregister(registration)
    case .bus(let registration, let space):
      do { try bus(space).unregister(registration, wait: wait) } catch { throw .bus(error) }
    }
  }
}

/// What `kvm`'s hotplug threads drive: one eventfd registration per churned (address,
/// value) pair, each time on a fresh eventfd, mirrored into KVM_IOEVENTFD when asked.
final class GuestChurnTarget<Flavor: RCUFlavor>: HotplugTarget {
  /// One plugged pair.
  struct Plug: HotplugPlug {
    let slot: Int
    let record: EventRecord<GuestWrite>
    let token: Registrar<Flavor>.Token
  }

  let registrar: Registrar<Flavor>
  let keys: [GuestWrite]
  let ledger: EventLedger<GuestWrite>

  var slotCount: Int { keys.count }
  var supportsBatches: Bool { false }
  var supportsDeferredRemovals: Bool { registrar.mirror == nil }
  let changeGate: ChangeGate?

  /// `changeGate`: shared with the run's other targets that call KVM's registration ioctls.
  init(
    registrar: Registrar<Flavor>, keys: [GuestWrite], ledger: EventLedger<GuestWrite>,
    changeGate: ChangeGate?
  ) {
    self.registrar = registrar
    self.keys = keys
    self.ledger = ledger
    self.changeGate = changeGate
  }

  /// Registers `key` on a fresh eventfd and records it: for the churned pairs and the
  /// stable ones alike.
  func plug(_ key: GuestWrite, slot: Int, churned: Bool) throws -> Plug {
    let eventFD = try EventFD()
    let token = try registrar.register(eventFD, key: key)
    let record = EventRecord(
      eventFD: eventFD, key: key, registration: token.registration, churned: churned,
      consumer: slot % ledger.consumers,
      busDevice: registrar.bus(key.space).device(of: token.registration) as? IOEventFD)
    ledger.add(record)
    return Plug(slot: slot, record: record, token: token)
  }

  /// Retired eventfds awaiting the settler past which no pair is plugged (each holds its
  /// descriptor until then).
  static var retiredLimit: Int { 1024 }

  func admits(adding: Int) -> Bool { ledger.retiredAwaiting + adding <= Self.retiredLimit }

  func update(adding: [Int], removing: [Plug], batched: Bool, wait: RemovalWait) throws -> [Plug] {
    let added = try adding.map { slot in try plug(keys[slot], slot: slot, churned: true) }
    let each = wait.split(into: removing.count)
    for plug in removing { try registrar.unregister(plug.token, wait: each) }
    return added
  }

  /// After the grace period (and, mirrored, the kernel's deassign): the eventfd is
  /// retired, so a signal found on it later is a writer nobody waited for.
  func released(_ plug: Plug, when: String) {
    ledger.retire(plug.record)
  }
}
