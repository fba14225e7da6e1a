extension EventFD: Hashable {
  /// Identity: two references are equal when they are the same eventfd object, so an
  /// ``EventPoller`` result (or any collection of eventfds) maps straight back to the
  /// caller's own bookkeeping.
  public static func == (lhs: EventFD, rhs: EventFD) -> Bool { lhs === rhs }

  /// Hashes the object's identity, consistently with `==`.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(ObjectIdentifier(self))
  }
}
