/// One immutable snapshot of a bus: a single contiguous allocation, sorted, searched with
/// binary search.
///
/// The entries hold the value-matched ones first, sorted by address and, for equal
/// addresses, in registration order (KVM's rule); then the range entries, sorted by base.
/// Range entries never overlap, so at most one can contain an access. Keeping the two kinds
/// apart lets a lookup find the covering range directly even when many value-matched
/// entries (a virtio device's queue notifiers) sit inside it.
///
/// Behind the entries, in the same allocation, two search trees (``EytzingerKeys``) hold
/// each entry's last address (for a value-matched entry its address; for a range its last
/// byte), one tree for each kind: a lookup reads only those 8-byte keys, seven times denser
/// than whole entries, in an order whose top levels every lookup shares, and reads one
/// entry at the end.
@usableFromInline
struct DeviceTable: ~Copyable {
  @usableFromInline let entries: UnsafeMutablePointer<TableEntry>
  /// The value-matched entries' addresses.
  @usableFromInline let matchedKeys: EytzingerKeys
  /// The ranges' last bytes.
  @usableFromInline let rangeKeys: EytzingerKeys
  @usableFromInline let matchedCount: Int
  @usableFromInline let count: Int
  /// The bytes of the snapshot's allocation, for ``IOBus/reclamationBacklog``.
  let allocatedBytes: Int

  /// Copies the writer's sorted entries into a new snapshot.
  init(matched: [TableEntry], ranges: [TableEntry]) {
    matchedCount = matched.count
    count = matched.count + ranges.count
    let capacity = max(count, 1)
    let line = 64
    // Each part starts on a cache line, so that a tree's node 8i begins one.
    func lines(_ bytes: Int) -> Int { (bytes + line - 1) / line * line }
    let entryBytes = lines(capacity * MemoryLayout<TableEntry>.stride)
    let matchedBytes = lines(EytzingerKeys.slots(forCount: matched.count) * 8)
    let rangeBytes = EytzingerKeys.slots(forCount: ranges.count) * 8
    allocatedBytes = entryBytes + matchedBytes + rangeBytes
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: allocatedBytes,
      alignment: max(MemoryLayout<TableEntry>.alignment, line))
    let entries = raw.bindMemory(to: TableEntry.self, capacity: capacity)
    matched.withUnsafeBufferPointer { entries.initialize(from: $0.baseAddress!, count: $0.count) }
    ranges.withUnsafeBufferPointer {
      (entries + matched.count).initialize(from: $0.baseAddress!, count: $0.count)
    }
    self.entries = entries
    matchedKeys = EytzingerKeys(
      nodes: (raw + entryBytes).bindMemory(to: UInt64.self, capacity: matchedBytes / 8),
      count: matched.count
    ) { matched[$0].last }
    rangeKeys = EytzingerKeys(
      nodes: (raw + entryBytes + matchedBytes).bindMemory(
        to: UInt64.self, capacity: rangeBytes / 8),
      count: ranges.count
    ) { ranges[$0].last }
  }

  deinit {
    entries.deinitialize(count: count)
    // The trees' keys are plain integers: nothing to deinitialize.
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
  func write(_ access: GuestAccess, value: UInt64, vcpu: Int) -> DispatchResult {
    var index = firstMatched(atOrAfter: access.address)
    while index < matchedCount {
      let entry = entries[index]
      guard entry.first == access.address else { break }
      if entry.matches(size: access.size, value: value) {
        let claimed = entry.handle._withUnsafeGuaranteedRef {
          $0.device.write(offset: 0, size: access.size, value: value, vcpu: vcpu)
        }
        if claimed { return .claimed(entry.id) }
      }
      index &+= 1
    }
    guard let range = rangeIndex(containing: access) else { return .unclaimed }
    let entry = entries[range]
    let claimed = entry.handle._withUnsafeGuaranteedRef {
      $0.device.write(
        offset: access.address &- entry.first, size: access.size, value: value, vcpu: vcpu)
    }
    return claimed ? .claimed(entry.id) : .unclaimed
  }

  /// Offers a read to the range that contains it; value-matched entries never see reads.
  @inlinable @inline(__always)
  func read(_ access: GuestAccess, vcpu: Int) -> UInt64? {
    guard let range = rangeIndex(containing: access) else { return nil }
    let entry = entries[range]
    return entry.handle._withUnsafeGuaranteedRef {
      $0.device.read(offset: access.address &- entry.first, size: access.size, vcpu: vcpu)
    }
  }

  /// The index of the first value-matched entry whose address is >= `address`.
  @inlinable @inline(__always)
  func firstMatched(atOrAfter address: UInt64) -> Int {
    matchedKeys.firstIndex(notBelow: address)
  }

  /// The index of the range entry that contains the whole access, if any.
  @inlinable @inline(__always)
  func rangeIndex(containing access: GuestAccess) -> Int? {
    // Ranges never overlap, so their last bytes ascend as their bases do: the first range
    // whose last byte is at or past the access's last byte is the only one that can contain
    // the access, and it does when it starts at or before the access.
    let index = matchedCount &+ rangeKeys.firstIndex(notBelow: access.last)
    guard index < count, entries[index].first <= access.address else { return nil }
    return index
  }
}

// MARK: - Introspection (writers and tools, never the dispatch path)

extension DeviceTable {
  /// The registrations in table order. Call inside a read-side section.
  func registrations() -> [Registration] {
    (0..<count).map { index in
      entries[index].handle._withUnsafeGuaranteedRef { $0.registration }
    }
  }

  /// The device registered as `registration`, if the table holds it. Call inside a
  /// read-side section; the returned reference is a strong one of the caller's own.
  func device(of registration: Registration) -> (any IODevice)? {
    for index in 0..<count where entries[index].id == registration.id {
      return entries[index].handle._withUnsafeGuaranteedRef {
        $0.registration == registration ? $0.device : nil
      }
    }
    return nil
  }
}
