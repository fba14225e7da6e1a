import CToyRCU

/// The toy RCU as liburcu's mb flavor does it: a full fence on the reader's entry and exit,
/// fences around the writer's scan. Correct.
public enum ToyFencedRCU: ToyRCUFlavor {
  public static var name: String { ToyRCUName.mb.rawValue }
  public static var entryFence: Bool { true }
  public static var exitFence: Bool { true }
  public static var membarrierGracePeriods: Bool { false }
  public static let reclaimer = ToyReclaimer(name: name, synchronize: synchronize)
}

/// The toy RCU as liburcu's memb flavor does it: compiler barriers on the reader's side,
/// `sys_membarrier` around the writer's scan. Correct.
public enum ToyMembarrierRCU: ToyRCUFlavor {
  public static var name: String { ToyRCUName.memb.rawValue }
  public static var entryFence: Bool { false }
  public static var exitFence: Bool { false }
  public static var membarrierGracePeriods: Bool { true }
  public static let reclaimer = ToyReclaimer(name: name, synchronize: synchronize)
}

/// FAULT: ``ToyFencedRCU`` without the fence after the reader's slot store. The store can
/// wait in the store buffer while the reader loads the pointer the writer is replacing, and
/// the writer's scan then sees the slot empty: the grace period ends under the reader.
public enum ToyUnfencedEntryRCU: ToyRCUFlavor {
  public static var name: String { ToyRCUName.mbUnfencedEntry.rawValue }
  public static var entryFence: Bool { false }
  public static var exitFence: Bool { true }
  public static var membarrierGracePeriods: Bool { false }
  public static let reclaimer = ToyReclaimer(name: name, synchronize: synchronize)
}

/// FAULT: ``ToyMembarrierRCU`` whose grace period fences the writer's CPU only, instead of
/// running `sys_membarrier`: nothing orders the reader's slot store before its loads.
public enum ToyNoMembarrierRCU: ToyRCUFlavor {
  public static var name: String { ToyRCUName.membNoMembarrier.rawValue }
  public static var entryFence: Bool { false }
  public static var exitFence: Bool { false }
  public static var membarrierGracePeriods: Bool { false }
  public static let reclaimer = ToyReclaimer(name: name, synchronize: synchronize)
}
