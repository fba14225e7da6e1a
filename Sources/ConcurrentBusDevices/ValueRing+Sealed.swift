import CValueRing

extension ValueRing {
  /// Whether the bus has sealed the ring: it let go of the ring's device, a grace period
  /// after the registration's unregister (or the move away from its last place), so no
  /// producer can add to it any more. What is left in the lanes still awaits a drain, which
  /// then reports ``DrainState/finished``.
  ///
  /// For a checker that must tell a ring the bus never released from one its consumer has
  /// not finished draining; consumers use ``drain(into:)``'s state instead.
  public var isSealed: Bool { value_ring_is_sealed(storage.ring) != 0 }
}
