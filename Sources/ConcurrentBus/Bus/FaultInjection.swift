/// Deliberate writer-side bugs, for proving that a checker (the stress tool) catches them.
///
/// Never enable these outside such a checker. They change only what writers do; the
/// dispatch path is the same code with or without them.
@_spi(FaultInjection)
public struct IOBusFaults: Sendable, Hashable {
  /// When positive, every `dropEntryEvery`-th publish leaves out of the new snapshot one
  /// entry that the update did not touch (the writer's copy "forgets" it; the next publish
  /// restores it).
  public var dropEntryEvery: Int

  /// When true, unregistering an ioeventfd closes its descriptor before the grace period,
  /// while readers may still signal it.
  public var closeEventFDsEarly: Bool

  /// Creates a set of faults; by default none.
  public init(dropEntryEvery: Int = 0, closeEventFDsEarly: Bool = false) {
    self.dropEntryEvery = dropEntryEvery
    self.closeEventFDsEarly = closeEventFDsEarly
  }
}

@_spi(FaultInjection)
extension IOBus {
  /// Turns the given faults on (or off) for every later update.
  public func injectFaults(_ faults: IOBusFaults) {
    faultState.withLock { $0.faults = faults }
  }
}

/// The faults in force and how many publishes they have seen.
struct FaultState: Sendable {
  var faults = IOBusFaults()
  var publishes = 0

  /// Which entry of `state`, if any, the next publish should leave out: one whose
  /// registration is older than `firstNewID`, so the batch itself did not touch it.
  mutating func entryToDrop(from state: BusState, firstNewID: UInt64) -> RegistrationID? {
    publishes += 1
    guard faults.dropEntryEvery > 0, publishes % faults.dropEntryEvery == 0 else { return nil }
    let candidates = (state.matched + state.ranges).filter { $0.id.rawValue < firstNewID }
    guard !candidates.isEmpty else { return nil }
    return candidates[(publishes / faults.dropEntryEvery) % candidates.count].id
  }
}
