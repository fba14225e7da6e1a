import KVM
import KVMGuests

/// Where `stress kvm --coalesced` puts its coalesced ranges, and the sequenced writes every
/// vCPU makes to them (``sequencedWrites``, each loop iteration, before the eventfd
/// accesses).
///
/// Range `i` has shape `i % 3`: a 4-byte MMIO write, a 4-byte port write, an 8-byte MMIO
/// write, always at the range's first byte. MMIO ranges are 8 bytes long, 0x100 apart from
/// ``mmioBase``; port ranges 4 bytes long, 8 apart from ``portBase``: clear of the eventfd
/// program's ports (0x1000 up, read at 0x2000) and addresses (0xD000_0000 up, read at
/// 0xD800_0000). Ranges `0..<stableCount` stay registered (coalesced) for the whole run, one
/// per space; the rest are churned.
struct CoalescedLayout: Sendable {
  /// One range.
  struct Range: Sendable, Hashable {
    let space: GuestAddressSpace
    let address: UInt64
    let length: UInt64
    /// The size of the guest's sequenced write to it.
    let writeSize: Int
    let stable: Bool
  }

  /// The first MMIO range.
  static let mmioBase: UInt64 = 0xE000_0000
  static let mmioStride: UInt64 = 0x100
  /// The first port range.
  static let portBase: UInt64 = 0x3000
  static let portStride: UInt64 = 8
  /// Ranges registered for the whole run: the first MMIO one and the first port one.
  static let stableCount = 2

  /// Every range, stable ones first; a range's index is its layout slot.
  let ranges: [Range]

  /// `churned` churned ranges after the stable ones.
  init(churned: Int) {
    let shapes: [(GuestAddressSpace, Int)] = [(.mmio, 4), (.pio, 4), (.mmio, 8)]
    ranges = (0..<(Self.stableCount + churned)).map { index in
      let (space, size) = shapes[index % shapes.count]
      return Range(
        space: space,
        address: space == .mmio
          ? Self.mmioBase + UInt64(index) * Self.mmioStride
          : Self.portBase + UInt64(index) * Self.portStride,
        length: space == .mmio ? 8 : 4, writeSize: size, stable: index < Self.stableCount)
    }
  }

  /// The churned ranges' layout slots.
  var churnedSlots: Swift.Range<Int> { Self.stableCount..<ranges.count }

  /// The layout slot whose range holds `address` in `space`, if any. Arithmetic, no search:
  /// the run loop asks on every exit.
  @inline(__always)
  func slot(_ space: GuestAddressSpace, _ address: UInt64) -> Int? {
    let (base, stride) =
      space == .mmio ? (Self.mmioBase, Self.mmioStride) : (Self.portBase, Self.portStride)
    guard address >= base else { return nil }
    let index = (address - base) / stride
    guard index < UInt64(ranges.count) else { return nil }
    let range = ranges[Int(index)]
    guard range.space == space, address - range.address < range.length else { return nil }
    return Int(index)
  }

  /// Writes to the stable ranges after each churned range's write: `stableBurst` to each.
  static let stableBurst = 2

  /// The sequenced writes of one loop iteration: each churned range's write, followed by
  /// ``stableBurst`` writes to each stable range. The stable ranges are always coalesced, so
  /// a churned range's buffered write waits in the ring through them before the next exit
  /// applies it (a vCPU held at that exit, ``VCPUHold``, leaves it for the unregister to
  /// apply), and the ring carries most of the sequenced writes.
  var sequencedWrites: [GuestProgram.SequencedWrite] {
    let stable = ranges.filter(\.stable)
    return ranges.filter { !$0.stable }.flatMap { churned in
      [churned] + (0..<Self.stableBurst).flatMap { _ in stable }
    }.map { .init(space: $0.space, address: $0.address, size: $0.writeSize) }
  }
}
