/// The writer's view of a bus: the sorted entries the next snapshot is built from, and the
/// strong references that keep every registered device alive.
///
/// Only ever touched under the bus's writer lock. A batch changes it in place and logs each
/// step; a failed batch is rolled back step by step, so the bus is unchanged.
struct BusState: Sendable {
  /// The bus these registrations belong to, and the addresses it accepts.
  let bus: BusIdentity
  let space: IOAddressSpace
  /// Value-matched entries, sorted by address then registration order.
  var matched: [TableEntry] = []
  /// Range entries, sorted by base (and so by last byte too), never overlapping.
  var ranges: [TableEntry] = []
  /// One strong reference per registered device.
  var handles: [RegistrationID: DeviceHandle] = [:]
  var nextID: UInt64 = 1

  init(bus: BusIdentity, space: IOAddressSpace) {
    self.bus = bus
    self.space = space
  }

  /// An empty state of the same bus, to stand in while the real one is lent to a batch.
  var placeholder: BusState { BusState(bus: bus, space: space) }

  mutating func makeRegistration(_ kind: RegistrationKind) -> Registration {
    defer { nextID += 1 }
    return Registration(id: RegistrationID(rawValue: nextID), kind: kind, bus: bus)
  }

  // MARK: - Searching (the bus's one binary search, see SortedSearch.swift)

  /// The index of the first range whose last byte is at or past `address`: the only range
  /// that can contain `address`, and the place a range starting at `address` goes.
  private func firstRange(endingAtOrAfter address: UInt64) -> Int {
    firstIndex(notBelow: address, from: 0, count: ranges.count) { ranges[$0].last }
  }

  /// The index of the first value-matched entry at or after `address`.
  private func firstMatched(atOrAfter address: UInt64) -> Int {
    firstIndex(notBelow: address, from: 0, count: matched.count) { matched[$0].first }
  }

  // MARK: - Adding

  /// Registers `device` as `kind`, or throws without changing anything.
  mutating func add(_ device: any IODevice, as kind: RegistrationKind) throws(IOBusError)
    -> Registration
  {
    switch kind {
    case .range(let base, let length):
      let index = try rangeSlot(base: base, length: length)
      let (registration, entry) = makeEntry(device, as: kind)
      ranges.insert(entry, at: index)
      return registration
    case .valueMatch(let address, let size, let match):
      let index = try matchSlot(address: address, size: size, match: match)
      let (registration, entry) = makeEntry(device, as: kind)
      matched.insert(entry, at: index)
      return registration
    }
  }

  /// A new registration of `device`, its handle kept in `handles`, and its table entry.
  private mutating func makeEntry(_ device: any IODevice, as kind: RegistrationKind)
    -> (Registration, TableEntry)
  {
    let registration = makeRegistration(kind)
    let handle = DeviceHandle(device: device, registration: registration)
    handles[registration.id] = handle
    return (registration, TableEntry(handle: handle))
  }

  /// Where a new range goes, after checking it against the address space and the others.
  private func rangeSlot(base: UInt64, length: UInt64) throws(IOBusError) -> Int {
    guard length >= 1 else { throw .emptyRange }
    let (last, wrapped) = base.addingReportingOverflow(length - 1)
    guard !wrapped else { throw .rangeWrapsAround(base: base, length: length) }
    guard last <= space.lastAddress else {
      throw .outsideAddressSpace(base: base, length: length)
    }
    // Every range before `index` ends below `base`; the one at `index` is the lowest that
    // can overlap.
    let index = firstRange(endingAtOrAfter: base)
    if index < ranges.count, ranges[index].first <= last {
      throw .overlapsExisting(registration(of: ranges[index]))
    }
    return index
  }

  /// Where a new value match goes (after every entry at its address: equal entries dispatch
  /// in registration order), after checking it with KVM's ioeventfd rules.
  private func matchSlot(address: UInt64, size: Int, match: ValueMatch) throws(IOBusError)
    -> Int
  {
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
      guard address + UInt64(size - 1) <= space.lastAddress else {
        throw .outsideAddressSpace(base: address, length: UInt64(size))
      }
    }
    var index = firstMatched(atOrAfter: address)
    while index < matched.count, matched[index].first == address {
      if Self.collide(matched[index], size: size, match: match) {
        throw .collidesWith(registration(of: matched[index]))
      }
      index += 1
    }
    return index
  }

  /// KVM's ioeventfd collision rule, for two entries at the same address.
  private static func collide(_ entry: TableEntry, size: Int, match: ValueMatch) -> Bool {
    if entry.size == 0 || size == 0 { return true }
    guard entry.size == size else { return false }
    switch match {
    case .any: return true
    case .value(let value): return entry.matchesAnyValue || entry.value == value
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
      let index = firstRange(endingAtOrAfter: base)
      precondition(ranges[index].id == registration.id, "bus state corrupt")
      ranges.remove(at: index)
    case .valueMatch(let address, _, _):
      var index = firstMatched(atOrAfter: address)
      while matched[index].id != registration.id { index += 1 }
      matched.remove(at: index)
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

  /// Puts a removed handle back where it was: ranges by base; value-matched entries by
  /// address, then registration order (identifiers grow with registration order).
  private mutating func restore(_ handle: DeviceHandle) {
    let entry = TableEntry(handle: handle)
    switch handle.registration.kind {
    case .range(let base, _):
      ranges.insert(entry, at: firstRange(endingAtOrAfter: base))
    case .valueMatch(let address, _, _):
      var index = firstMatched(atOrAfter: address)
      while index < matched.count, matched[index].first == address, matched[index].id < entry.id {
        index += 1
      }
      matched.insert(entry, at: index)
    }
    handles[handle.registration.id] = handle
  }

  private func registration(of entry: TableEntry) -> Registration {
    handles[entry.id]!.registration
  }

  /// Builds the immutable snapshot readers will see.
  func makeTable() -> DeviceTable {
    DeviceTable(matched: matched, ranges: ranges)
  }
}
