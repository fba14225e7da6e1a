extension ViolationKind {
  /// A ring entry whose sequence number is not the next one its producer owes: higher (an
  /// entry dropped), or lower (an entry duplicated or reordered). Checked as each entry is
  /// delivered (``RingDeliveryLog``).
  public static let ringSequence = ViolationKind("ring-sequence")
  /// What a ring delivered for one vCPU differs from the values that vCPU's writes the ring
  /// claimed, in order: a value missing, extra, changed or moved. Checked once the ring has
  /// finished and every vCPU has flushed its claims.
  public static let ringDelivery = ViolationKind("ring-delivery")
  // Writes lost to a full lane are not a violation: the ring reports each loss in its
  // place, as it promises, and the lane filled because the tool's consumer fell behind.
  // They are a `checker` shortfall (``RingRecord``), and the run is inconclusive.
}
