import HostSupport

/// The per-bus counters vCPU threads bump on the read path, one shard per thread.
public enum BusCounter: Int, CaseIterable, Sendable {
  /// Guest writes nothing claimed.
  case unclaimedWrites
  /// Guest reads nothing claimed.
  case unclaimedReads
  /// Matched ioeventfd writes whose eventfd could not be signalled.
  case failedSignals
}

/// A bus's totals, summed over every thread's shard when read.
public struct IOBusStatistics: Hashable, Sendable {
  /// Guest writes that no registration claimed (including invalid sizes and addresses).
  public var unclaimedWrites: UInt64
  /// Guest reads that no registration claimed.
  public var unclaimedReads: UInt64
  /// Matched ioeventfd writes whose signal failed (counter full, descriptor gone): the write
  /// was still claimed, and the loss is reported here instead of silently.
  public var failedSignals: UInt64
}
