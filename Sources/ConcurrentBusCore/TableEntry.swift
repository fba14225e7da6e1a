/// One row of a ``DeviceTable``: plain data, so that reading it from a snapshot touches no
/// reference count.
@usableFromInline
struct TableEntry: Sendable {
  /// The range's base, or the value-matched address.
  @usableFromInline let first: UInt64
  /// The range's last byte (inclusive, so a range may end exactly at 2^64).
  @usableFromInline let last: UInt64
  /// For value-matched entries: the access size (0 for any), the value and whether any
  /// value matches.
  @usableFromInline let size: Int
  @usableFromInline let value: UInt64
  @usableFromInline let matchesAnyValue: Bool
  @usableFromInline let id: RegistrationID
  // Unretained: the bus's writer state keeps the handle alive for as long as any snapshot
  // that contains this entry can be read.
  @usableFromInline let handle: Unmanaged<DeviceHandle>

  init(handle: DeviceHandle) {
    let registration = handle.registration
    self.id = registration.id
    self.handle = Unmanaged.passUnretained(handle)
    switch registration.kind {
    case .range(let base, let length):
      first = base
      last = base &+ (length &- 1)
      size = 0
      value = 0
      matchesAnyValue = false
    case .valueMatch(let address, let size, let match):
      first = address
      last = address
      self.size = size
      switch match {
      case .any:
        value = 0
        matchesAnyValue = true
      case .value(let v):
        value = v
        matchesAnyValue = false
      }
    }
  }

  /// Whether a write of `size` bytes with `value` satisfies this value-matched entry.
  @inlinable @inline(__always)
  func matches(size accessSize: Int, value accessValue: UInt64) -> Bool {
    (size == 0 || size == accessSize) && (matchesAnyValue || value == accessValue)
  }
}
