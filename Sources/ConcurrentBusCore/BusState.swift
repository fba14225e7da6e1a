/// The writer's view of a bus: the sorted entries the next snapshot is built from, and the
/// strong references that keep every registered device alive.
///
/// Only ever touched under the bus's writer lock. A batch changes it in place and logs each
/// step; a failed batch is rolled back step by step, so the bus is unchanged. Between the
/// steps of a batch the entries may overlap or collide (a swap of two BARs passes through
/// such a state); only the state a batch ends with is checked, and published
/// (`BusState+EndState.swift`).
struct BusState: Sendable {
  /// The bus these registrations belong to, and the addresses it accepts.
  let bus: BusIdentity
  let space: IOAddressSpace
  /// The most entries a published table may hold (``IOBus/maximumEntries``).
  let maximumEntries: Int
  /// Value-matched entries, sorted by address then registration order.
  var matched: [TableEntry] = []
  /// Range entries, sorted by base then registration order. In a published table they never
  /// overlap, so their last bytes ascend too.
  var ranges: [TableEntry] = []
  /// One strong reference per registered device.
  var handles: [RegistrationID: DeviceHandle] = [:]
  var nextID: UInt64 = 1
  /// The allocation size of the table readers see now: what the next publish retires.
  var publishedTableBytes = 0
  /// Set when an entry went in next to one it overlaps or collides with, or outside the
  /// address space, since the batch began: only then can the end state break a rule other
  /// than the entry limit (removals never make a conflict), so only then is it searched.
  var mayConflict = false

  init(bus: BusIdentity, space: IOAddressSpace, maximumEntries: Int) {
    self.bus = bus
    self.space = space
    self.maximumEntries = maximumEntries
  }

  /// An empty state of the same bus, to stand in while the real one is lent to a batch
  /// (with the same next identifier, which the batch reads when it starts).
  var placeholder: BusState {
    var placeholder = BusState(bus: bus, space: space, maximumEntries: maximumEntries)
    placeholder.nextID = nextID
    return placeholder
  }

  /// How many entries the table holds.
  var count: Int { matched.count + ranges.count }

  mutating func makeRegistration(_ kind: RegistrationKind) -> Registration {
    defer { nextID += 1 }
    return Registration(id: RegistrationID(rawValue: nextID), kind: kind, bus: bus)
  }

  // MARK: - Searching (the bus's one binary search, see SortedSearch.swift)

  /// Where the entry `(first, id)` is, or goes, in `entries` sorted by first address then
  /// identifier (identifiers grow with registration order, so a new entry goes after every
  /// entry at its address).
  static func position(in entries: [TableEntry], first: UInt64, id: RegistrationID) -> Int {
    // Through the buffer: no bounds check or retain per step of a search every step of a
    // batch makes (three per registration).
    entries.withUnsafeBufferPointer { entries in
      var index = firstIndex(notBelow: first, from: 0, count: entries.count) { entries[$0].first }
      while index < entries.count, entries[index].first == first, entries[index].id < id {
        index += 1
      }
      return index
    }
  }

  /// The index of entry `id` at `first`, if it is in `entries`.
  static func liveIndex(of id: RegistrationID, first: UInt64, in entries: [TableEntry]) -> Int? {
    let index = position(in: entries, first: first, id: id)
    return index < entries.count && entries[index].id == id ? index : nil
  }

  /// The index of the live entry `id` at `first`.
  static func index(of id: RegistrationID, first: UInt64, in entries: [TableEntry]) -> Int {
    guard let index = liveIndex(of: id, first: first, in: entries) else {
      preconditionFailure("bus state corrupt")
    }
    return index
  }

  // MARK: - Adding

  /// Registers `device` as `kind`, or throws without changing anything. Checks the entry on
  /// its own (its size, value and wrap-around); how it fits with the others (overlaps,
  /// collisions, the address space, the entry limit) is the end state's to check.
  mutating func add(_ device: any IODevice, as kind: RegistrationKind) throws(IOBusError)
    -> Registration
  {
    switch kind {
    case .range(let base, let length):
      try Self.checkRange(base: base, length: length)
    case .valueMatch(let address, let size, let match):
      try Self.checkMatch(address: address, size: size, match: match, space: space)
    }
    let registration = makeRegistration(kind)
    let handle = DeviceHandle(device: device, registration: registration)
    handles[registration.id] = handle
    insert(handle)
    return registration
  }

  /// A range's own rules: at least one byte, and no wrap past 2^64.
  private static func checkRange(base: UInt64, length: UInt64) throws(IOBusError) {
    guard length >= 1 else { throw .emptyRange }
    guard !base.addingReportingOverflow(length - 1).overflow else {
      throw .rangeWrapsAround(base: base, length: length)
    }
  }

  /// A value match's own rules, KVM's ioeventfd ones: sizes 0, 1, 2, 4, 8; a value needs a
  /// size and must fit in it; size 0 only where the space allows it; `address + size` may
  /// not wrap.
  private static func checkMatch(
    address: UInt64, size: Int, match: ValueMatch, space: IOAddressSpace
  ) throws(IOBusError) {
    guard [0, 1, 2, 4, 8].contains(size) else { throw .invalidSize(size) }
    if case .value(let value) = match {
      guard size != 0 else { throw .valueMatchNeedsSize }
      guard size == 8 || value >> UInt64(size * 8) == 0 else {
        throw .valueTooWide(value: value, size: size)
      }
    }
    if size == 0 {
      guard space.allowsAnySizeMatch else { throw .anySizeOnPortIO }
    } else {
      // KVM's rule: `addr + len` must not wrap, so a match may not end exactly at 2^64.
      guard !address.addingReportingOverflow(UInt64(size)).overflow else {
        throw .rangeWrapsAround(base: address, length: UInt64(size))
      }
    }
  }

  /// Puts a handle's entry in its place: ranges by base, value matches by address, then
  /// identifier; notes when it may make the table conflict (``mayConflict``).
  private mutating func insert(_ handle: DeviceHandle) {
    let entry = TableEntry(handle: handle)
    let outside = handle.registration.kind.extent.lastByte > space.lastAddress
    switch handle.registration.kind {
    case .range:
      let index = Self.position(in: ranges, first: entry.first, id: entry.id)
      // A list sorted by base that has no overlap keeps none when an entry goes in that
      // overlaps neither neighbour.
      let overlaps =
        (index > 0 && ranges[index - 1].last >= entry.first)
        || (index < ranges.count && entry.last >= ranges[index].first)
      ranges.insert(entry, at: index)
      mayConflict = mayConflict || outside || overlaps
    case .valueMatch:
      let index = Self.position(in: matched, first: entry.first, id: entry.id)
      var collides = false
      var other = index
      while other > 0, matched[other - 1].first == entry.first { other -= 1 }
      while !collides, other < matched.count, matched[other].first == entry.first {
        collides = Self.collide(entry, matched[other])
        other += 1
      }
      matched.insert(entry, at: index)
      mayConflict = mayConflict || outside || collides
    }
  }

  // MARK: - Removing and moving

  /// Removes a registration and returns the handle, which the caller releases only after a
  /// grace period.
  mutating func remove(_ registration: Registration) throws(IOBusError) -> DeviceHandle {
    guard registration.bus == bus else { throw .registrationFromAnotherBus(registration) }
    guard let handle = handles[registration.id], handle.registration == registration else {
      throw .unknownRegistration(registration)
    }
    handles[registration.id] = nil
    switch registration.kind {
    case .range(let base, _):
      ranges.remove(at: Self.index(of: registration.id, first: base, in: ranges))
    case .valueMatch(let address, _, _):
      matched.remove(at: Self.index(of: registration.id, first: address, in: matched))
    }
    return handle
  }

  /// Re-registers the device of `registration` at `address` (a range's new base, a value
  /// match's new address), under a new identifier. Returns the replaced handle, which
  /// readers of older snapshots may still use, and the new registration. On error nothing
  /// changes.
  mutating func move(_ registration: Registration, to address: UInt64) throws(IOBusError)
    -> (replaced: DeviceHandle, moved: Registration)
  {
    let replaced = try remove(registration)
    do throws(IOBusError) {
      return (replaced, try add(replaced.device, as: registration.kind.moved(to: address)))
    } catch {
      restore(replaced)
      throw error
    }
  }

  // MARK: - Rolling back a failed batch

  /// One change a batch made, in the order it made them.
  enum Step {
    case added(Registration)
    case removed(DeviceHandle)
  }

  /// Undoes `steps`, newest first. Identifiers stay used: the batch may have handed them out.
  mutating func rollBack(_ steps: [Step]) {
    for step in steps.reversed() {
      switch step {
      case .added(let registration):
        _ = try? remove(registration)
      case .removed(let handle):
        restore(handle)
      }
    }
  }

  /// Puts a removed handle back where it was.
  private mutating func restore(_ handle: DeviceHandle) {
    insert(handle)
    handles[handle.registration.id] = handle
  }

  /// Builds the immutable snapshot readers will see.
  func makeTable() -> DeviceTable {
    DeviceTable(matched: matched, ranges: ranges)
  }
}
