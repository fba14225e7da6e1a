import CHostSupport

/// A small set of counters that many threads bump without sharing a cache line.
///
/// Each thread adds to its own 64-byte shard (threads are numbered on first use); reading
/// sums every shard. This keeps statistics off the shared-write list of the read path: a
/// vCPU counting an unclaimed access writes only to memory no other vCPU writes.
public final class ShardedCounters<Counter: RawRepresentable & CaseIterable>: @unchecked Sendable
where Counter.RawValue == Int {
  // @unchecked: shards are only touched through relaxed atomic adds and loads.
  @usableFromInline let shards: UnsafeMutablePointer<UInt64>
  @usableFromInline static var stride: Int { 8 }  // 8 counters of 8 bytes: one cache line.

  /// Creates zeroed counters. `Counter` may have at most 8 cases.
  public init() {
    precondition(Counter.allCases.count <= Self.stride, "at most 8 counters fit a shard")
    let words = Int(CHOST_SHARD_COUNT) * Self.stride
    let raw = UnsafeMutableRawPointer.allocate(byteCount: words * 8, alignment: 64)
    shards = raw.initializeMemory(as: UInt64.self, repeating: 0, count: words)
  }

  deinit { shards.deallocate() }

  /// Adds `amount` to `counter` in the calling thread's shard.
  @inlinable @inline(__always)
  public func add(_ counter: Counter, _ amount: UInt64 = 1) {
    let shard = Int(chost_thread_shard_index())
    chost_counter_add(shards + (shard &* Self.stride &+ counter.rawValue), amount)
  }

  /// The sum over all shards; concurrent adds may or may not be included.
  public subscript(counter: Counter) -> UInt64 {
    (0..<Int(CHOST_SHARD_COUNT)).reduce(0) {
      $0 &+ chost_counter_load(shards + ($1 * Self.stride + counter.rawValue))
    }
  }
}
