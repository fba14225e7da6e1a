/// The 8-byte values vCPU threads write to rings: the vCPU's index in the top 16 bits and
/// its count of ring writes so far in the low 48, so that every value names its writer and
/// its place in that writer's order.
enum RingValue {
  /// The value of vCPU `vcpu`'s `count`-th ring write.
  @inline(__always)
  static func make(vcpu: Int, count: UInt64) -> UInt64 {
    UInt64(truncatingIfNeeded: vcpu) << 48 | (count & 0xFFFF_FFFF_FFFF)
  }
}
