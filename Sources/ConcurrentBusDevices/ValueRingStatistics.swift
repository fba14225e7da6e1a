/// What a ring's producers did, summed over their lanes.
public struct ValueRingStatistics: Hashable, Sendable {
  /// Writes recorded with their values.
  public var recorded: UInt64
  /// Writes claimed but lost to a full lane (each reported in a ``RingLoss``).
  public var lost: UInt64
  /// Signals producers sent to the ring's eventfd (a lane went from empty to non-empty, or a
  /// loss began).
  public var wakeups: UInt64
  /// Signals that failed (the eventfd counter full, or its descriptor closed).
  public var failedWakeups: UInt64
  /// Writes the ring declined, so the bus offered them to the next entry: the thread had no
  /// producer slot (more than ``RingProducer/limit`` live threads wrote to rings), or its
  /// lane could not be allocated.
  public var declined: UInt64

  /// Creates statistics from their counts.
  public init(
    recorded: UInt64, lost: UInt64, wakeups: UInt64, failedWakeups: UInt64, declined: UInt64
  ) {
    self.recorded = recorded
    self.lost = lost
    self.wakeups = wakeups
    self.failedWakeups = failedWakeups
    self.declined = declined
  }
}
