import CVhostUser

/// A bounds-checked view of guest RAM mapped in this process: every access a device makes
/// on the guest's or the back end's behalf goes through it, and an address outside
/// `[guestPhysicalAddress, guestPhysicalAddress + size)` is refused (nil or false), never
/// followed. The guest and the back end both write this memory, so every access is a
/// single-copy-atomic load or store (``CVhostUser``); the acquire and release orderings
/// pair with the writers' own barriers (the back end's `smp_wmb` before it publishes a used
/// index, the guest's stores before it kicks).
///
/// @unchecked Sendable: the mapping outlives the window (its owner, the VM's guest memory,
/// is kept by whoever made the window), and concurrent access is what the atomics are for.
public struct GuestMemoryWindow: @unchecked Sendable {
  /// Guest-physical address of the first byte.
  public let guestPhysicalAddress: UInt64
  /// Size in bytes.
  public let size: UInt64
  /// Host address of the first byte.
  public let base: UnsafeMutableRawPointer

  /// A window on `size` bytes at `base`, which the guest sees at `guestPhysicalAddress`.
  public init(guestPhysicalAddress: UInt64, size: UInt64, base: UnsafeMutableRawPointer) {
    self.guestPhysicalAddress = guestPhysicalAddress
    self.size = size
    self.base = base
  }

  /// The host pointer of `[address, address + length)`, or nil when any byte lies outside,
  /// or the access is not aligned to `alignment`.
  func pointer(_ address: UInt64, length: UInt64, alignment: UInt64 = 1) -> UnsafeMutableRawPointer?
  {
    guard address >= guestPhysicalAddress, address % alignment == 0 else { return nil }
    let offset = address - guestPhysicalAddress
    guard offset <= size, length <= size - offset else { return nil }
    return base + Int(offset)
  }

  /// Whether `[address, address + length)` lies inside the window.
  public func contains(_ address: UInt64, length: UInt64) -> Bool {
    pointer(address, length: length) != nil
  }

  /// The u16 at `address` (2-byte aligned), or nil outside the window.
  public func load16(_ address: UInt64) -> UInt16? {
    // Acquiring (in C): pairs with the writer's barrier before it published this index.
    pointer(address, length: 2, alignment: 2).map {
      UInt16(littleEndian: cvhost_load16_acquire($0))
    }
  }

  /// The u32 at `address` (4-byte aligned), or nil outside the window.
  public func load32(_ address: UInt64) -> UInt32? {
    // Acquiring (in C): pairs with the writer's barrier before it published this entry.
    pointer(address, length: 4, alignment: 4).map {
      UInt32(littleEndian: cvhost_load32_acquire($0))
    }
  }

  /// Stores `value` at `address` (4-byte aligned); false outside the window.
  @discardableResult
  public func store32(_ value: UInt32, at address: UInt64) -> Bool {
    guard let target = pointer(address, length: 4, alignment: 4) else { return false }
    // Releasing (in C): pairs with the guest's load of this slot, so everything read
    // before it (the used ring it reports) is ordered before the guest sees it.
    cvhost_store32_release(target, value.littleEndian)
    return true
  }
}
