/// Where a split virtqueue's three parts lie in guest memory (virtio 1.2, 2.7): the
/// descriptor table (16 bytes per entry, 16-byte aligned), the available ring (`flags`,
/// `idx`, `ring[size]`, `used_event`: u16 each, 2-byte aligned) and the used ring (`flags`,
/// `idx` as u16, `ring[size]` of {`id`, `len`} u32 pairs, `avail_event`, 4-byte aligned),
/// laid out one after the other from `base`.
public struct SplitQueueLayout: Sendable, Hashable {
  /// Guest-physical address of the descriptor table.
  public let descriptorTable: UInt64
  /// Guest-physical address of the available ring.
  public let availableRing: UInt64
  /// Guest-physical address of the used ring.
  public let usedRing: UInt64
  /// Descriptors (and ring entries) in the queue.
  public let size: Int

  /// The largest queue size a split virtqueue may have.
  public static let maximumSize = 32768

  /// The layout of a queue of `size` entries whose descriptor table starts at `base`
  /// (16-byte aligned).
  public init(base: UInt64, size: Int) throws(VhostUserError) {
    guard size >= 1, size <= Self.maximumSize, base % 16 == 0 else {
      throw .invalidArgument("queue of \(size) entries at 0x\(String(base, radix: 16))")
    }
    self.size = size
    descriptorTable = base
    availableRing = base + 16 * UInt64(size)
    usedRing = (availableRing + 6 + 2 * UInt64(size) + 3) & ~3
  }

  /// The bytes from the descriptor table to the end of the used ring.
  public var byteCount: UInt64 { usedRing + 6 + 8 * UInt64(size) - descriptorTable }

  /// Address of the available ring's `idx`.
  public var availableIndex: UInt64 { availableRing + 2 }
  /// Address of available ring entry `slot` (taken modulo the size).
  public func availableEntry(_ slot: UInt16) -> UInt64 {
    availableRing + 4 + 2 * UInt64(Int(slot) % size)
  }
  /// Address of the used ring's `idx`.
  public var usedIndex: UInt64 { usedRing + 2 }
  /// Address of used ring entry `slot` (taken modulo the size): `id` at +0, `len` at +4.
  public func usedEntry(_ slot: UInt16) -> UInt64 { usedRing + 4 + 8 * UInt64(Int(slot) % size) }
  /// Address of descriptor `index`: `addr` u64, `len` u32, `flags` u16, `next` u16.
  public func descriptor(_ index: Int) -> UInt64 { descriptorTable + 16 * UInt64(index) }
}
