import ConcurrentBus

/// What the model needs to know of a device to predict the bus's answers.
public protocol ModelledDevice {
  /// Whether the device claims the writes that reach it.
  var acceptsWrites: Bool { get }
  /// What the device answers to reads (nil: declines).
  var readValue: UInt64? { get }
}

// One model serves the property tests and the fuzzer (Scripts/fuzz.sh compiles this file
// into Fuzz/BusFuzz).

/// The bus's specification written as plainly as possible: a list in registration order,
/// searched linearly. The property tests hold the real bus to it.
///
/// The rules, each stated once: accesses are 1 to 8 bytes and may not wrap past 2^64; a
/// range claims every access inside it; a value match claims writes at its address of its
/// size (any size when 0) and value; KVM's ioeventfd rules for what may be registered
/// (sizes 0/1/2/4/8, `address + size` may not wrap, no value with size 0, the collision
/// rule); a port-I/O bus covers ports 0...0xFFFF and takes no size-0 match; registrations
/// belong to the bus that issued them.
///
/// Updates are judged on their end state: ``beginBatch()`` starts one, each step checks
/// only itself, and ``endStateError()`` says what the bus must throw for the table the
/// update ends with (nil: it publishes it), naming entries as the caller knows them.
public struct BusModel<Device: ModelledDevice> {
  /// One live registration and its device.
  public struct Entry {
    public let registration: Registration
    public let device: Device
  }

  /// The bus this model predicts: registrations carry its identity.
  public let bus: BusIdentity
  public let space: IOAddressSpace
  /// The bus's ``IOBus/maximumEntries``.
  public let maximumEntries: Int
  public private(set) var entries: [Entry] = []
  public private(set) var nextID: UInt64 = 1
  /// The update under way: the first identifier it handed out, and for each entry it moved,
  /// the registration on the bus it came from.
  private var batchFirstID: UInt64 = 1
  private var moves: [RegistrationID: Registration] = [:]

  /// An empty model of the bus `bus` (its ``IOBus/identity``) over `space`.
  public init(bus: BusIdentity, space: IOAddressSpace, maximumEntries: Int = .max) {
    self.bus = bus
    self.space = space
    self.maximumEntries = maximumEntries
  }

  /// Starts an update (a batch, or a single register, move or unregister).
  public mutating func beginBatch() {
    batchFirstID = nextID
    moves = [:]
  }

  /// Table order: value-matched entries by address then registration order, then ranges by
  /// base (then registration order).
  public var registrations: [Registration] { matchedInOrder + rangesInOrder }

  private var matchedInOrder: [Registration] {
    entries.map(\.registration).filter {
      if case .valueMatch = $0.kind { true } else { false }
    }.sorted(by: tableOrder)
  }

  private var rangesInOrder: [Registration] {
    entries.map(\.registration).filter { if case .range = $0.kind { true } else { false } }
      .sorted(by: tableOrder)
  }

  private func tableOrder(_ one: Registration, _ other: Registration) -> Bool {
    (address(one), one.id.rawValue) < (address(other), other.id.rawValue)
  }

  private func address(_ registration: Registration) -> UInt64 {
    switch registration.kind {
    case .range(let base, _): base
    case .valueMatch(let address, _, _): address
    }
  }

  private mutating func add(_ kind: RegistrationKind, _ device: Device) -> Registration {
    let registration = Registration(id: RegistrationID(rawValue: nextID), kind: kind, bus: bus)
    nextID += 1
    entries.append(Entry(registration: registration, device: device))
    return registration
  }

  public mutating func register(
    _ device: Device, base: UInt64, length: UInt64
  ) throws(IOBusError) -> Registration {
    guard length > 0 else { throw .emptyRange }
    guard UInt64.max - base >= length - 1 else {
      throw .rangeWrapsAround(base: base, length: length)
    }
    return add(.range(base: base, length: length), device)
  }

  public mutating func register(
    _ device: Device, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    guard [0, 1, 2, 4, 8].contains(size) else { throw .invalidSize(size) }
    if case .value(let value) = match {
      if size == 0 { throw .valueMatchNeedsSize }
      if size < 8, value >= (1 << UInt64(size * 8)) {
        throw .valueTooWide(value: value, size: size)
      }
    }
    if size == 0, space == .portIO { throw .anySizeOnPortIO }
    // KVM: `addr + len < addr` is EINVAL, so a match ending exactly at 2^64 is refused.
    if size > 0, UInt64.max - address < UInt64(size) {
      throw .rangeWrapsAround(base: address, length: UInt64(size))
    }
    return add(.valueMatch(address: address, size: size, match: match), device)
  }

  public mutating func unregister(_ registration: Registration) throws(IOBusError) {
    _ = try take(registration)
  }

  /// Moves a registration: the same device, registered anew at `address` with the same
  /// size and match; on error nothing changes.
  public mutating func move(_ registration: Registration, to address: UInt64) throws(IOBusError)
    -> Registration
  {
    var staged = self
    let entry = try staged.take(registration)
    let moved: Registration
    switch registration.kind {
    case .range(_, let length):
      moved = try staged.register(entry.device, base: address, length: length)
    case .valueMatch(_, let size, let match):
      moved = try staged.register(entry.device, address: address, size: size, match: match)
    }
    if let origin = origin(of: registration) { staged.moves[moved.id] = origin }
    self = staged
    return moved
  }

  /// The registration on the bus `registration` comes from: itself if it was there before
  /// the update, what the update moved it from, or nil if the update registered it.
  private func origin(of registration: Registration) -> Registration? {
    registration.id.rawValue < batchFirstID ? registration : moves[registration.id]
  }

  /// An entry of the table as the caller of the update knows it.
  private func name(_ registration: Registration) -> IOBusError.Entry {
    switch origin(of: registration) {
    case registration?: .registered(registration)
    case let origin?: .moved(origin, to: registration.kind)
    case nil: .new(registration.kind)
    }
  }

  /// What the bus throws for the table the update ends with, nil when it is valid: too many
  /// entries; else the first entry in table order outside the address space; else the
  /// first overlapping pair of ranges in table order; else the first colliding pair of
  /// value matches in table order.
  public func endStateError() -> IOBusError? {
    if entries.count > maximumEntries { return .tableFull(limit: maximumEntries) }
    for registration in registrations {
      switch registration.kind {
      case .range(let base, let length) where base + (length - 1) > space.lastAddress:
        return .outsideAddressSpace(base: base, length: length)
      case .valueMatch(let address, let size, _)
      where size > 0 && address + UInt64(size - 1) > space.lastAddress:
        return .outsideAddressSpace(base: address, length: UInt64(size))
      default: continue
      }
    }
    // Every pair in table order (ranges by base, value matches by address), stopping at the
    // first that overlaps or collides; later entries of a sorted list start later, so each
    // scan ends at the first one past the entry's end or address.
    let ranges = rangesInOrder
    for (i, one) in ranges.enumerated() {
      for other in ranges[(i + 1)...] {
        guard address(other) <= Self.lastByte(one.kind) else { break }
        if Self.overlap(one.kind, other.kind) { return .rangesOverlap(name(one), name(other)) }
      }
    }
    let matched = matchedInOrder
    for (i, one) in matched.enumerated() {
      for other in matched[(i + 1)...] {
        guard address(other) == address(one) else { break }
        if Self.collide(one.kind, other.kind) { return .matchesCollide(name(one), name(other)) }
      }
    }
    return nil
  }

  private static func lastByte(_ kind: RegistrationKind) -> UInt64 {
    switch kind {
    case .range(let base, let length): base + (length - 1)
    case .valueMatch(let address, _, _): address
    }
  }

  private static func overlap(_ one: RegistrationKind, _ other: RegistrationKind) -> Bool {
    guard case .range(let base, let length) = one,
      case .range(let otherBase, let otherLength) = other
    else { return false }
    return otherBase <= base + (length - 1) && base <= otherBase + (otherLength - 1)
  }

  /// KVM's ioeventfd collision rule.
  private static func collide(_ one: RegistrationKind, _ other: RegistrationKind) -> Bool {
    guard case .valueMatch(let address, let size, let match) = one,
      case .valueMatch(let otherAddress, let otherSize, let otherMatch) = other,
      address == otherAddress
    else { return false }
    return size == 0 || otherSize == 0
      || (size == otherSize && (match == .any || otherMatch == .any || match == otherMatch))
  }

  private mutating func take(_ registration: Registration) throws(IOBusError) -> Entry {
    guard registration.bus == bus else { throw .registrationFromAnotherBus(registration) }
    guard let index = entries.firstIndex(where: { $0.registration == registration }) else {
      throw .unknownRegistration(registration)
    }
    return entries.remove(at: index)
  }

  /// Keeps the identifiers a failed batch used, as the bus does.
  public mutating func abandon(batch: BusModel) {
    nextID = batch.nextID
  }

  /// Whether an access of `size` bytes at `address` can reach a device at all.
  private func isAccess(address: UInt64, size: Int) -> Bool {
    (1...8).contains(size) && UInt64.max - address >= UInt64(size - 1)
  }

  private func truncate(_ value: UInt64, size: Int) -> UInt64 {
    size == 8 ? value : value & ((1 << UInt64(size * 8)) - 1)
  }

  public func write(address: UInt64, size: Int, value: UInt64) -> DispatchResult {
    guard isAccess(address: address, size: size) else { return .unclaimed }
    let value = truncate(value, size: size)
    for entry in entries {
      guard case .valueMatch(let at, let matchSize, let match) = entry.registration.kind,
        at == address, matchSize == 0 || matchSize == size, match == .any || match == .value(value)
      else { continue }
      if entry.device.acceptsWrites { return .claimed(entry.registration.id) }
    }
    guard let range = covering(address: address, size: size) else { return .unclaimed }
    return range.device.acceptsWrites ? .claimed(range.registration.id) : .unclaimed
  }

  public func read(address: UInt64, size: Int) -> UInt64? {
    guard isAccess(address: address, size: size) else { return nil }
    guard let value = covering(address: address, size: size)?.device.readValue else { return nil }
    return truncate(value, size: size)
  }

  private func covering(address: UInt64, size: Int) -> Entry? {
    entries.first { entry in
      guard case .range(let base, let length) = entry.registration.kind else { return false }
      return address >= base && address + UInt64(size - 1) <= base + (length - 1)
    }
  }

  /// The device behind a live registration.
  public func device(of id: RegistrationID) -> Device? {
    entries.first { $0.registration.id == id }?.device
  }
}
