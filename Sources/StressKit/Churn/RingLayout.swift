/// Where a churn run puts its rings on the MMIO bus.
///
/// Each ring slot has two places, and a move takes its ring from one to the other. Even
/// slots hold exact-address rings (8-byte writes, any value) inside the device model's
/// window, so that a write of another size at their address falls through to the model;
/// odd slots hold range rings outside it.
enum RingLayout {
  /// The size of every ring write: the value carries its vCPU and its place in that vCPU's
  /// order (``RingValue``).
  static let valueSize = 8
  /// The size of the writes an exact-address ring must let fall through.
  static let mismatchSize = 4

  static let rangeLength: UInt64 = 0x1000

  /// The most ring slots.
  static let maximumSlots = 1024

  /// Whether slot `slot` holds an exact-address ring (else a range ring).
  @inline(__always)
  static func isExact(slot: Int) -> Bool { slot % 2 == 0 }

  /// The address (exact) or base (range) of slot `slot` at place `place` (0 or 1).
  @inline(__always)
  static func origin(slot: Int, place: Int) -> UInt64 {
    isExact(slot: slot)
      ? ChurnLayout.modelBase + 0x1_0000 + UInt64(slot) * 16 + UInt64(place) * 8
      : 0x3000_0000 + UInt64(slot) * 0x2000 + UInt64(place) * rangeLength
  }
}
