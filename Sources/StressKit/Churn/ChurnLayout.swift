/// Where a churn run puts things on its MMIO bus.
///
/// A device-model range covers the window where every eventfd sits, so a write that matches
/// no eventfd falls through to it (the virtio pattern) and must be claimed by it. Stable
/// eventfds share addresses four at a time, like the queue notifiers of one device, each
/// matching its queue number; churned eventfds match value 1 at their own address; churned
/// range devices sit outside the model window.
enum ChurnLayout {
  static let modelBase: UInt64 = 0x1000_0000
  static let modelLength: UInt64 = 0x10_0000
  static let accessSize = 4

  /// The address a stable eventfd `index` is registered at.
  @inline(__always)
  static func stableAddress(_ index: Int) -> UInt64 { modelBase + 0x100 + UInt64(index / 4) * 8 }

  /// The value a stable eventfd `index` matches.
  @inline(__always)
  static func stableValue(_ index: Int) -> UInt64 { UInt64(index % 4) }

  /// A value written at a stable address that no eventfd matches.
  @inline(__always)
  static func stableMismatch(_ index: Int) -> UInt64 { 4 + UInt64(index % 4) }

  /// The address of churned eventfd slot `slot`; it matches `churnValue`.
  @inline(__always)
  static func churnEventAddress(_ slot: Int) -> UInt64 { modelBase + 0x8000 + UInt64(slot) * 8 }

  static let churnValue: UInt64 = 1
  static let churnMismatch: UInt64 = 2

  /// The base of churned range device slot `slot`.
  @inline(__always)
  static func churnRangeBase(_ slot: Int) -> UInt64 { 0x2000_0000 + UInt64(slot) * 0x1000 }

  static let churnRangeLength: UInt64 = 0x1000

  /// The most stable eventfds whose addresses stay below the churned eventfd window.
  static let maximumStableDevices = Int(0x8000 - 0x100) / 8 * 4

  /// The most churned slots (their eventfds stay inside the model window).
  static let maximumChurnSlots = 4096
}
