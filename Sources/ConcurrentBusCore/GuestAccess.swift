/// A guest access validated once at the door, so that nothing after it can trap on hostile
/// input: the length is 1 to 8 bytes and the last byte does not wrap past 2^64.
///
/// Every length from 1 to 8 is a real access: KVM hands userspace MMIO exits of 3, 5, 6 and
/// 7 bytes (an access split at a page boundary), and delivers them to any-length ioeventfds.
@usableFromInline
struct GuestAccess {
  @usableFromInline let address: UInt64
  @usableFromInline let last: UInt64
  @usableFromInline let size: Int

  @inlinable @inline(__always)
  init?(address: UInt64, size: Int) {
    // One unsigned comparison covers zero, negative sizes and sizes above 8.
    guard UInt(bitPattern: size) &- 1 < 8 else { return nil }
    let (last, wrapped) = address.addingReportingOverflow(UInt64(truncatingIfNeeded: size &- 1))
    guard !wrapped else { return nil }
    self.address = address
    self.last = last
    self.size = size
  }

  /// The low `size` bytes of `value`: what the guest actually wrote.
  @inlinable @inline(__always)
  func truncate(_ value: UInt64) -> UInt64 {
    // size is 1...8, so the shift is 0...56: no branch for the 8-byte case.
    value & (UInt64.max &>> UInt64(truncatingIfNeeded: 64 &- size &* 8))
  }
}
