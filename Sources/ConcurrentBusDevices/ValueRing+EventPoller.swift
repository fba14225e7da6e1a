extension EventPoller {
  /// Starts reporting `ring`'s wakeups (its ``ValueRing/eventFD``); drain the ring each time
  /// the eventfd is reported.
  public func add(_ ring: ValueRing) throws(EventFDError) {
    try add(ring.eventFD)
  }

  /// Stops reporting `ring`'s wakeups.
  public func remove(_ ring: ValueRing) throws(EventFDError) {
    try remove(ring.eventFD)
  }
}
