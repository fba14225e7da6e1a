import HostSupport

/// The per-bus counters vCPU threads bump on the read path, one shard per thread.
public enum BusCounter: Int, CaseIterable, Sendable {
  /// Guest writes nothing claimed.
  case unclaimedWrites
  /// Guest reads nothing claimed.
  case unclaimedReads
}

/// A bus's totals, summed over every thread's shard when read.
public struct IOBusStatistics: Hashable, Sendable {
  /// Guest writes that no registration claimed (including invalid sizes and addresses).
  public var unclaimedWrites: UInt64
  /// Guest reads that no registration claimed.
  public var unclaimedReads: UInt64
}
