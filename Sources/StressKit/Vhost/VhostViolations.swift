extension ViolationKind {
  /// A request was kicked and never completed: the back end never saw its kick.
  public static let lostKick = ViolationKind("lost-kick")
  /// A request completed on the used ring but the guest was never told (a call lost).
  public static let lostCall = ViolationKind("lost-call")
  /// A kick found no notifier registration on the bus (it reached the register window, or
  /// nothing): a notifier switch left a gap.
  public static let kickUnclaimed = ViolationKind("kick-unclaimed")
  /// The guest saw a wrong completion: more than one, another chain, a bad status, or data
  /// read back that differs from the data written.
  public static let requestCompletion = ViolationKind("request-completion")
  /// The disk image at the end differs from the model of what the guests wrote.
  public static let imageMismatch = ViolationKind("image-mismatch")
  /// The back end broke the protocol or the ring rules, or a queue operation failed.
  public static let vhostProtocol = ViolationKind("vhost-protocol")
}

/// A guest request that did not complete within the bound after its kick, as found after
/// the round, and what became of it after as long again.
enum StalledRequest: Sendable {
  /// It completed and the guest was told, late: the machine was too slow to judge.
  case late(String)
  /// The back end never completed it.
  case kickLost(String)
  /// It completed on the used ring, but the interrupt never reached the guest.
  case callLost(String)
}
