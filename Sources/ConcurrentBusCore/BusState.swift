/// The writer's view of a bus: the sorted entries the next snapshot is built from, and the
/// strong references that keep every registered device alive.
///
/// Only ever touched under the bus's writer lock. A batch changes it in place and logs each
/// step; a failed batch is rolled back step by step, so the bus is unchanged.
struct BusState: Sendable {
  /// Value-matched entries, sorted by address then registration order.
  var matched: [TableEntry] = []
  /// Range entries, sorted by base, never overlapping.
  var ranges: [TableEntry] = []
  /// One strong reference per registered device.
  var handles: [RegistrationID: DeviceHandle] = [:]
  var nextID: UInt64 = 1

  var registrationCount: Int { handles.count }

  mutating func makeID() -> RegistrationID {
    defer { nextID += 1 }
    return RegistrationID(rawValue: nextID)
  }

  // MARK: - Range entries

  mutating func addRange(
    _ device: any IODevice, base: UInt64, length: UInt64
  ) throws(IOBusError) -> Registration {
    guard length >= 1 else { throw .emptyRange }
    guard base.addingReportingOverflow(length - 1).overflow == false else {
      throw .rangeWrapsAround(base: base, length: length)
    }
    let last = base + (length - 1)
    let index = firstRange(after: base)
    if index > 0, ranges[index - 1].last >= base {
      throw .overlapsExisting(registration(of: ranges[index - 1]))
    }
    if index < ranges.count, ranges[index].first <= last {
      throw .overlapsExisting(registration(of: ranges[index]))
    }
    let registration = Registration(id: makeID(), kind: .range(base: base, length: length))
    let handle = DeviceHandle(device: device, registration: registration)
    ranges.insert(TableEntry(handle: handle), at: index)
    handles[registration.id] = handle
    return registration
  }

  /// The index of the first range whose base is greater than `address`.
  private func firstRange(after address: UInt64) -> Int {
    var low = 0
    var high = ranges.count
    while low < high {
      let middle = (low + high) / 2
      if ranges[middle].first <= address { low = middle + 1 } else { high = middle }
    }
    return low
  }

  // MARK: - Value-matched entries

  mutating func addValueMatch(
    _ device: any IODevice, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    guard [0, 1, 2, 4, 8].contains(size) else { throw .invalidSize(size) }
    if case .value(let value) = match {
      guard size != 0 else { throw .valueMatchNeedsSize }
      guard size == 8 || value >> UInt64(size * 8) == 0 else {
        throw .valueTooWide(value: value, size: size)
      }
    }
    guard size == 0 || !address.addingReportingOverflow(UInt64(size - 1)).overflow else {
      throw .rangeWrapsAround(base: address, length: UInt64(size))
    }
    var index = firstMatched(atOrAfter: address)
    while index < matched.count, matched[index].first == address {
      if Self.collide(matched[index], size: size, match: match) {
        throw .collidesWith(registration(of: matched[index]))
      }
      index += 1
    }
    let registration = Registration(
      id: makeID(), kind: .valueMatch(address: address, size: size, match: match))
    let handle = DeviceHandle(device: device, registration: registration)
    // After every entry with the same address: equal entries dispatch in registration order.
    matched.insert(TableEntry(handle: handle), at: index)
    handles[registration.id] = handle
    return registration
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

  private func firstMatched(atOrAfter address: UInt64) -> Int {
    var low = 0
    var high = matched.count
    while low < high {
      let middle = (low + high) / 2
      if matched[middle].first < address { low = middle + 1 } else { high = middle }
    }
    return low
  }

  // MARK: - Removal

  /// Removes a registration and returns the handle, which the caller releases only after a
  /// grace period.
  mutating func remove(_ registration: Registration) throws(IOBusError) -> DeviceHandle {
    guard let handle = handles[registration.id], handle.registration == registration else {
      throw .unknownRegistration(registration)
    }
    handles[registration.id] = nil
    switch registration.kind {
    case .range(let base, _):
      let index = firstRange(after: base) - 1
      precondition(index >= 0 && ranges[index].id == registration.id, "bus state corrupt")
      ranges.remove(at: index)
    case .valueMatch(let address, _, _):
      var index = firstMatched(atOrAfter: address)
      while matched[index].id != registration.id { index += 1 }
      matched.remove(at: index)
    }
    return handle
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
      ranges.insert(entry, at: firstRange(after: base))
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
