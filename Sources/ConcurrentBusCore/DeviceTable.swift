import CHostSupport

/// One immutable snapshot of a bus: a single contiguous allocation, sorted, searched with
/// binary search.
///
/// The entries hold the value-matched ones first, sorted by address and, for equal
/// addresses, in registration order (KVM's rule); then the range entries, sorted by base.
/// Range entries never overlap, so at most one can contain an access. Keeping the two kinds
/// apart lets a lookup find the covering range directly even when many value-matched
/// entries (a virtio device's queue notifiers) sit inside it.
///
/// Behind the entries, in the same allocation, `keys` repeats each entry's first address:
/// the binary search reads only those 8-byte keys, seven times denser than whole entries,
/// so a large table's search touches far fewer cache lines.
@usableFromInline
struct DeviceTable: ~Copyable {
  @usableFromInline let entries: UnsafeMutablePointer<TableEntry>
  @usableFromInline let keys: UnsafeMutablePointer<UInt64>
  @usableFromInline let matchedCount: Int
  @usableFromInline let count: Int

  /// Copies the writer's sorted entries into a new snapshot.
  init(matched: [TableEntry], ranges: [TableEntry]) {
    matchedCount = matched.count
    count = matched.count + ranges.count
    let capacity = max(count, 1)
    let entryBytes = capacity * MemoryLayout<TableEntry>.stride
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: entryBytes + capacity * MemoryLayout<UInt64>.stride,
      alignment: max(MemoryLayout<TableEntry>.alignment, 64))
    entries = raw.bindMemory(to: TableEntry.self, capacity: capacity)
    keys = (raw + entryBytes).bindMemory(to: UInt64.self, capacity: capacity)
    matched.withUnsafeBufferPointer { entries.initialize(from: $0.baseAddress!, count: $0.count) }
    ranges.withUnsafeBufferPointer {
      (entries + matchedCount).initialize(from: $0.baseAddress!, count: $0.count)
    }
    for index in 0..<count { (keys + index).initialize(to: entries[index].first) }
  }

  deinit {
    entries.deinitialize(count: count)
    keys.deinitialize(count: count)
    UnsafeMutableRawPointer(entries).deallocate()
  }

  // MARK: - The read path
  //
  // Everything below runs on vCPU threads inside a read-side section. It was checked in the
  // optimized build with `llvm-objdump -d` (Scripts/check-hot-path.sh does it on every CI
  // run): no lock, no allocation, no swift_retain/swift_release, no call at all except the
  // device's own method through its witness table. Entries are read through a raw pointer
  // and devices through `_withUnsafeGuaranteedRef`, because a plain class load would retain.

  /// Offers a write to the value-matched entries at its address, in order, then to the
  /// range that contains it.
  @inlinable @inline(__always)
  func write(_ access: GuestAccess, value: UInt64) -> DispatchResult {
    var index = firstMatched(atOrAfter: access.address)
    while index < matchedCount {
      let entry = entries[index]
      guard entry.first == access.address else { break }
      if entry.matches(size: access.size, value: value) {
        let claimed = entry.handle._withUnsafeGuaranteedRef {
          $0.device.write(offset: 0, size: access.size, value: value)
        }
        if claimed { return .claimed(entry.id) }
      }
      index &+= 1
    }
    guard let range = rangeIndex(containing: access) else { return .unclaimed }
    let entry = entries[range]
    let claimed = entry.handle._withUnsafeGuaranteedRef {
      $0.device.write(offset: access.address &- entry.first, size: access.size, value: value)
    }
    return claimed ? .claimed(entry.id) : .unclaimed
  }

  /// Offers a read to the range that contains it; value-matched entries never see reads.
  @inlinable @inline(__always)
  func read(_ access: GuestAccess) -> UInt64? {
    guard let range = rangeIndex(containing: access) else { return nil }
    let entry = entries[range]
    return entry.handle._withUnsafeGuaranteedRef {
      $0.device.read(offset: access.address &- entry.first, size: access.size)
    }
  }

  /// The index of the first value-matched entry whose address is >= `address`.
  @inlinable @inline(__always)
  func firstMatched(atOrAfter address: UInt64) -> Int {
    // Branch-free on the comparison (see rangeIndex): only the trip count branches.
    var length = matchedCount
    guard length > 0 else { return 0 }
    var low = 0
    while length > 1 {
      let half = length &>> 1
      low &+= half & allOnes(if: keys[low &+ half] < address)
      length &-= half
    }
    return keys[low] < address ? low &+ 1 : low
  }

  /// The index of the range entry that contains the whole access, if any.
  @inlinable @inline(__always)
  func rangeIndex(containing access: GuestAccess) -> Int? {
    // Find the last range whose base is <= the address: the only one that can contain it.
    // Each step adds through a mask instead of branching: guest addresses are as good as
    // random to the branch predictor, and a mispredicted step costs more than the load.
    var length = count &- matchedCount
    guard length > 0 else { return nil }
    var low = matchedCount
    while length > 1 {
      let half = length &>> 1
      low &+= half & allOnes(if: keys[low &+ half] <= access.address)
      length &-= half
    }
    let entry = entries[low]
    guard entry.first <= access.address, access.last <= entry.last else { return nil }
    return low
  }
}

/// -1 (all bits set) when `condition` holds, else 0: a select without a branch (see
/// `chost_opaque_word` for why the mask has to be hidden from the optimizer).
@inlinable @inline(__always)
func allOnes(if condition: Bool) -> Int {
  // Safe: a Bool is one byte holding exactly 0 or 1.
  chost_opaque_word(0 &- Int(unsafeBitCast(condition, to: UInt8.self)))
}
