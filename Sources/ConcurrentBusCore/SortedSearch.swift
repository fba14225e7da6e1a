import CHostSupport

/// The writers' binary search: among `count` ascending keys at indices `start...`, the index
/// of the first key that is not below `bound` (`start + count` when there is none).
///
/// Writers run it on their sorted entries; readers run the same search, with the same
/// comparator (`key < bound`), on a snapshot's trees (``EytzingerKeys``), laid out for
/// lookups. Ranges are searched by their *last* byte, which is what lets one comparator
/// serve both kinds (see ``DeviceTable``).
///
/// Branch-free on the comparison: each step adds through a mask instead of branching, because
/// guest addresses are as good as random to the branch predictor and a mispredicted step
/// costs more than the load; only the trip count branches.
@inlinable @inline(__always)
func firstIndex(
  notBelow bound: UInt64, from start: Int, count: Int, key: (Int) -> UInt64
) -> Int {
  var length = count
  guard length > 0 else { return start }
  var low = start
  while length > 1 {
    let half = length &>> 1
    low &+= half & allOnes(if: key(low &+ half) < bound)
    length &-= half
  }
  return key(low) < bound ? low &+ 1 : low
}

/// -1 (all bits set) when `condition` holds, else 0: a select without a branch (see
/// `chost_opaque_word` for why the mask has to be hidden from the optimizer).
@inlinable @inline(__always)
func allOnes(if condition: Bool) -> Int {
  // Safe: a Bool is one byte holding exactly 0 or 1.
  chost_opaque_word(0 &- Int(unsafeBitCast(condition, to: UInt8.self)))
}
