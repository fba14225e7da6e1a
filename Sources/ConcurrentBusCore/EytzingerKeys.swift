/// Sorted 8-byte keys laid out for search: an implicit binary search tree in breadth-first
/// (Eytzinger) order, padded to a full tree, so that a lookup is a fixed number of steps
/// down from the root, each reading one key, with no branch on the keys.
///
/// Node `i` (from 1) has its children at `2i` and `2i + 1`; the top levels of the tree, which
/// every lookup reads, share a few cache lines (the top 9 levels are 64 lines in all), where
/// a binary search over the sorted keys reads a line of its own at nearly every step. Each
/// step is a load, a compare and an add, with none of a binary search's bookkeeping of the
/// remaining length. Chosen by measurement over the branch-free binary search it replaces,
/// an 8-key B-tree order, and this order with a prefetch of the descendants three levels
/// down, which cost at 16 entries and gained nothing at 10,000 (BENCHMARKS.md, "The search
/// at 10,000 entries").
///
/// The tree has `2^depth - 1` nodes for `count` keys (`2^(depth-1) <= count < 2^depth`);
/// the nodes past the keys hold `UInt64.max`, which sorts after every key (a key equal to it
/// comes first: padding is appended after the sorted keys). With a full tree, the node a
/// lookup ends below spells the answer: after `depth` steps, `node - 2^depth` is the number
/// of keys below the bound, which is the sorted index of the first key not below it.
@usableFromInline
struct EytzingerKeys {
  /// The nodes, from index 1 (index 0 is unused), 64-byte aligned: node 8i begins a line.
  @usableFromInline let nodes: UnsafeMutablePointer<UInt64>
  /// Steps per lookup: the tree's levels.
  @usableFromInline let depth: Int

  /// The levels of the full tree that holds `count` keys.
  static func depth(forCount count: Int) -> Int { Int.bitWidth - count.leadingZeroBitCount }

  /// The slots a tree of `count` keys takes: its nodes plus the unused slot 0.
  static func slots(forCount count: Int) -> Int { 1 << depth(forCount: count) }

  /// Lays out `count` ascending keys (`key(0)`, `key(1)`, ...) in `nodes`, which holds
  /// ``slots(forCount:)`` slots, uninitialized.
  init(nodes: UnsafeMutablePointer<UInt64>, count: Int, key: (Int) -> UInt64) {
    self.nodes = nodes
    depth = Self.depth(forCount: count)
    nodes.initialize(to: 0)
    // Node i on level d (2^d <= i < 2^(d+1)) is the (2p+1)-th of 2^(d+1) equal parts of
    // the sorted order, p = i - 2^d: sorted index (2p + 1) * 2^(depth-1-d) - 1.
    for level in 0..<depth {
      let first = 1 << level
      let spacing = 1 << (depth - 1 - level)
      for node in first..<(2 * first) {
        let sorted = (2 * (node - first) + 1) * spacing - 1
        (nodes + node).initialize(to: sorted < count ? key(sorted) : .max)
      }
    }
  }

  /// The sorted index of the first key that is not below `bound` (`count` when none is).
  ///
  /// Branch-free on the keys: each step adds the comparison's 0 or 1 to the next node's
  /// index; only the trip count, fixed per table, branches.
  @inlinable @inline(__always)
  func firstIndex(notBelow bound: UInt64) -> Int {
    var node = 1
    for _ in 0..<depth {
      // Safe: a Bool is one byte holding exactly 0 or 1.
      node = (node &<< 1) &+ Int(unsafeBitCast(nodes[node] < bound, to: UInt8.self))
    }
    return node &- (1 &<< depth)
  }
}
