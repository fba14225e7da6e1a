/// A guest access validated once at the door, so that nothing after it can trap on hostile
/// input: the size is 1, 2, 4 or 8 and the last byte does not wrap past 2^64.
@usableFromInline
struct GuestAccess {
  @usableFromInline let address: UInt64
  @usableFromInline let last: UInt64
  @usableFromInline let size: Int

  @inlinable @inline(__always)
  init?(address: UInt64, size: Int) {
    // One branch covers negative sizes, zero, non-powers of two and sizes above 8.
    guard size > 0, size <= 8, size & (size &- 1) == 0 else { return nil }
    let (last, wrapped) = address.addingReportingOverflow(UInt64(truncatingIfNeeded: size &- 1))
    guard !wrapped else { return nil }
    self.address = address
    self.last = last
    self.size = size
  }

  /// The low `size` bytes of `value`: what the guest actually wrote.
  @inlinable @inline(__always)
  func truncate(_ value: UInt64) -> UInt64 {
    size == 8 ? value : value & ((1 &<< UInt64(truncatingIfNeeded: size &* 8)) &- 1)
  }
}
