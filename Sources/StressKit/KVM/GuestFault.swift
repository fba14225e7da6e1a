/// A deliberate bug `stress kvm` injects, to prove its checks catch it. Each is made by the
/// engine from outside the production types (a drain handler of its own, an unregister
/// sequence written in the engine, the hotplug engine's early release): `CoalescedRing`,
/// `KernelCoalescedMirror` and `VCPU.run` carry no fault switch.
public enum GuestFault: String, CaseIterable, Codable, Sendable {
  /// No fault: the run must be clean.
  case none
  /// One removal in `faultEvery` (per hotplug thread) releases its devices and runs its
  /// checks at once, before its grace period.
  case skipGracePeriod = "skip-grace-period"
  /// The vCPUs drain the coalesced ring themselves and lose one entry in `faultEvery`.
  case dropCoalesced = "drop-coalesced"
  /// The vCPUs drain the coalesced ring themselves and apply one entry in `faultEvery` twice.
  case duplicateCoalesced = "duplicate-coalesced"
  /// The vCPUs drain the coalesced ring themselves and apply one entry in `faultEvery` after
  /// the next entry of the same writer.
  case reorderCoalesced = "reorder-coalesced"
  /// A coalesced unregister leaves the bus before it drains the ring (zone, bus, drain):
  /// the buffered writes reach no device.
  case busBeforeDrain = "bus-before-drain"
  /// A coalesced unregister never drains the ring (zone, bus): the buffered writes are
  /// applied later, by whoever drains next.
  case skipDrain = "skip-drain"
  /// A coalesced unregister returns (its device released) before it drains the ring: the
  /// buffered writes reach the device after its unregister returned.
  case drainAfterReturn = "drain-after-return"
  /// The vCPUs take the ring's entries before an exit and apply them after the exit in hand:
  /// a read no longer sees the coalesced writes made before it.
  case exitBeforeDrain = "exit-before-drain"

  /// Whether the fault works on the coalesced ranges (and so needs `--coalesced`).
  public var needsCoalesced: Bool {
    switch self {
    case .none, .skipGracePeriod: false
    default: true
    }
  }

  /// Whether the fault is made by the vCPUs' own drain of the ring.
  var drainsOnVCPU: Bool {
    switch self {
    case .dropCoalesced, .duplicateCoalesced, .reorderCoalesced, .exitBeforeDrain: true
    default: false
    }
  }

  /// The rate when `--fault-every` is not given: one ring entry in 100 for the ring faults
  /// (each drain then holds a victim often), every time otherwise.
  public var defaultEvery: Int {
    switch self {
    case .dropCoalesced, .duplicateCoalesced, .reorderCoalesced: 100
    default: 1
    }
  }

  /// What `--fault-every N` counts for this fault, for help and reports.
  public var everyUnit: String {
    switch self {
    case .none: "-"
    case .skipGracePeriod: "removals per hotplug thread"
    case .dropCoalesced, .duplicateCoalesced, .reorderCoalesced: "ring entries per vCPU"
    case .busBeforeDrain, .skipDrain, .drainAfterReturn: "coalesced unregisters"
    case .exitBeforeDrain: "exits per vCPU"
    }
  }
}
