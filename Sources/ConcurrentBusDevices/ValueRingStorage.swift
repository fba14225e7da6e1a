import CValueRing

/// A ring's C memory and wake-up eventfd, shared by its device (the producers' side) and
/// its ``ValueRing`` (the consumer's side), and freed when both are gone.
final class ValueRingStorage: @unchecked Sendable {
  // @unchecked: `ring` is allocated here and freed in deinit; every field threads share is
  // touched only through CValueRing.h's atomic accessors.
  let ring: OpaquePointer
  let eventFD: EventFD
  let capacity: Int

  /// The largest lane capacity: 2^16 records of 24 bytes, 1.5 MiB per producer.
  static let maximumCapacity = 1 << 16

  /// A ring of at least `capacity` records per lane (rounded up to a power of two, clamped
  /// to 2...``maximumCapacity``).
  init(capacity: Int, eventFD: EventFD) {
    let clamped = min(max(capacity, 2), Self.maximumCapacity)
    self.capacity = 1 << (Int.bitWidth - (clamped - 1).leadingZeroBitCount)
    guard let ring = value_ring_create(UInt64(self.capacity), eventFD.descriptor) else {
      fatalError("out of memory for a value ring")
    }
    self.ring = ring
    self.eventFD = eventFD
  }

  deinit { value_ring_destroy(ring) }

  /// Every lane, with its slot.
  var lanes: [(slot: Int, lane: OpaquePointer)] {
    (0..<Int(value_ring_lane_limit(ring))).compactMap { slot in
      value_ring_lane(ring, UInt32(slot)).map { (slot, $0) }
    }
  }
}
