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
public struct BusModel<Device: ModelledDevice> {
  /// One live registration and its device.
  public struct Entry {
    public let registration: Registration
    public let device: Device
  }

  public private(set) var entries: [Entry] = []
  public private(set) var nextID: UInt64 = 1

  /// An empty model.
  public init() {}

  /// Table order: value-matched entries by address then registration order, then ranges by
  /// base.
  public var registrations: [Registration] {
    let matched = entries.filter {
      if case .valueMatch = $0.registration.kind { true } else { false }
    }
    let ranges = entries.filter { if case .range = $0.registration.kind { true } else { false } }
    return matched.sorted { address($0) < address($1) }.map(\.registration)
      + ranges.sorted { address($0) < address($1) }.map(\.registration)
  }

  private func address(_ entry: Entry) -> UInt64 {
    switch entry.registration.kind {
    case .range(let base, _): base
    case .valueMatch(let address, _, _): address
    }
  }

  private mutating func add(_ kind: RegistrationKind, _ device: Device) -> Registration {
    let registration = Registration(id: RegistrationID(rawValue: nextID), kind: kind)
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
    let last = base + (length - 1)
    let overlapping = entries.filter { entry in
      guard case .range(let otherBase, let otherLength) = entry.registration.kind else {
        return false
      }
      return otherBase <= last && base <= otherBase + (otherLength - 1)
    }
    if let lowest = overlapping.min(by: { address($0) < address($1) }) {
      throw .overlapsExisting(lowest.registration)
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
    if size > 0, UInt64.max - address < UInt64(size - 1) {
      throw .rangeWrapsAround(base: address, length: UInt64(size))
    }
    for entry in entries {
      guard
        case .valueMatch(let otherAddress, let otherSize, let otherMatch) = entry.registration.kind,
        otherAddress == address
      else { continue }
      let collides =
        size == 0 || otherSize == 0
        || (size == otherSize && (match == .any || otherMatch == .any || match == otherMatch))
      if collides { throw .collidesWith(entry.registration) }
    }
    return add(.valueMatch(address: address, size: size, match: match), device)
  }

  public mutating func unregister(_ registration: Registration) throws(IOBusError) {
    guard let index = entries.firstIndex(where: { $0.registration == registration }) else {
      throw .unknownRegistration(registration)
    }
    entries.remove(at: index)
  }

  /// Keeps the identifiers a failed batch used, as the bus does.
  public mutating func abandon(batch: BusModel) {
    nextID = batch.nextID
  }

  public func write(address: UInt64, size: Int, value: UInt64) -> DispatchResult {
    guard [1, 2, 4, 8].contains(size), UInt64.max - address >= UInt64(size - 1) else {
      return .unclaimed
    }
    let value = size == 8 ? value : value & ((1 << UInt64(size * 8)) - 1)
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
    guard [1, 2, 4, 8].contains(size), UInt64.max - address >= UInt64(size - 1) else {
      return nil
    }
    guard let value = covering(address: address, size: size)?.device.readValue else { return nil }
    return size == 8 ? value : value & ((1 << UInt64(size * 8)) - 1)
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
