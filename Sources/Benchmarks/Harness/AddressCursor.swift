/// A reader's walk through its addresses: dispatches them in order, wrapping around.
struct AddressCursor {
  private let base: UnsafeMutablePointer<UInt64>
  private let mask: Int
  private var index = 0

  /// A walk through `addresses`, whose count is a power of two.
  @inline(__always)
  init(_ addresses: UnsafeMutableBufferPointer<UInt64>) {
    // Safe: every address table is allocated with 16384 entries, never empty.
    base = addresses.baseAddress.unsafelyUnwrapped
    mask = addresses.count &- 1
  }

  /// Dispatches the next `count` addresses to `target`; how many no device claimed.
  @inline(__always)
  mutating func dispatch<Target: ReadTarget>(_ count: Int, to target: Target) -> Int {
    var unclaimed = 0
    for _ in 0..<count {
      if !target.dispatch(address: base[index & mask]) { unclaimed &+= 1 }
      index &+= 1
    }
    return unclaimed
  }
}
