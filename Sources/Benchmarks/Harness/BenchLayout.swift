import HostSupport

/// The table layout every design gets: `count` ranges of 0x100 bytes, 4 KiB apart.
enum BenchLayout {
  static let base: UInt64 = 0x1_0000_0000
  static let stride: UInt64 = 0x1000
  static let length: UInt64 = 0x100
  /// Where the churning writer registers and unregisters, away from every reader address.
  static let churnBase: UInt64 = 0xF000_0000_0000

  static func base(ofEntry index: Int) -> UInt64 { base + UInt64(index) * stride }

  /// `count` write addresses drawn uniformly over `entries` entries, 4-byte aligned inside
  /// each range.
  static func addresses(count: Int, entries: Int, seed: UInt64) -> [UInt64] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in
      base(ofEntry: Int.random(in: 0..<entries, using: &random))
        + UInt64.random(in: 0..<(length / 4), using: &random) * 4
    }
  }
}
