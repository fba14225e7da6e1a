import RCU
import RCUFaultFlavors

/// A deliberate bug to inject, to prove the checks catch it. Each is done by the engine
/// from outside the bus: the production types carry no fault switch.
public enum ChurnFault: String, CaseIterable, Codable, Sendable {
  /// No fault: the run must be clean.
  case none
  /// Every `faultEvery`-th removal releases its devices and runs its checks right away,
  /// without waiting for its grace period.
  case skipGracePeriod = "skip-grace-period"
  /// The writer's copy occasionally leaves out one unrelated entry.
  case dropEntry = "drop-entry"
  /// The eventfd is closed before the grace period after its unregister.
  case earlyClose = "early-close"
  /// One ring value in `faultEvery` is left out of what the ring delivered.
  case ringDrop = "ring-drop"
  /// One ring value in `faultEvery` is delivered twice.
  case ringDuplicate = "ring-duplicate"
  /// One ring value in `faultEvery` is delivered after its producer's next one.
  case ringReorder = "ring-reorder"
  /// One ring value in `faultEvery` is left out and the producer's later entries are
  /// renumbered to hide the gap.
  case ringSilentDrop = "ring-silent-drop"
  /// Ring unregisters and moves count as returned before the bus call instead of after it.
  case ringEarlyReturn = "ring-early-return"
  /// One deferred reclamation in `faultEvery` is never run (`FaultyRCU`'s lost callback):
  /// its retired table stays in the bus's backlog (see `BacklogWatch`).
  case withholdReclamation = "withhold-reclamation"
  /// One `synchronize()` in `faultEvery` never returns (`FaultyRCU`'s stalled grace
  /// period): the stall watchdog must report it, and the run still end on time.
  case stallSynchronize = "stall-synchronize"

  /// The flavor-level fault this fault installs around the flavor (``FaultyRCU``), if any.
  var rcuFaultKind: RCUFaultKind? {
    switch self {
    case .withholdReclamation: .lostCallback
    case .stallSynchronize: .stallSynchronize
    default: nil
    }
  }

  /// Whether the fault is made on rings (and needs `--rings` above 0).
  public var isRingFault: Bool {
    [.ringDrop, .ringDuplicate, .ringReorder, .ringSilentDrop, .ringEarlyReturn].contains(self)
  }

  /// Whether `--fault-every` sets how often the fault fires (one removal, or one ring
  /// value, in N); the others fire at a fixed rate, and the option would do nothing.
  public var takesRate: Bool {
    [
      .skipGracePeriod, .ringDrop, .ringDuplicate, .ringReorder, .ringSilentDrop,
      .withholdReclamation, .stallSynchronize,
    ].contains(self)
  }
}

/// Everything a churn run was asked to do.
public struct ChurnConfiguration: Codable, Sendable {
  /// vCPU threads dispatching.
  public var vcpus: Int
  /// Hotplug threads registering and unregistering the churned slots.
  public var hotplug: Int
  /// Consumer threads draining eventfds.
  public var consumers: Int
  /// Seconds of dispatching.
  public var duration: Double
  /// Stable eventfd registrations.
  public var devices: Int
  /// Churned slots, each an eventfd and a range device.
  public var churnDevices: Int
  /// Churned ring slots (value-capturing registrations); 0 runs without rings.
  public var rings: Int
  /// Records per producer lane of each ring.
  public var ringCapacity: Int
  /// The RCU flavor.
  public var flavor: FlavorChoice
  /// The injected fault.
  public var fault: ChurnFault
  /// For `skip-grace-period`: one removal in this many (per hotplug thread) skips; for
  /// the ring-entry faults, one ring value in this many delivered is hit.
  public var faultEvery: Int
  /// Seeds every random choice.
  public var seed: UInt64
  /// How much longer than `duration` the run may go on to reach its minimum of work (0:
  /// it ends at `duration` whatever it did).
  public var minimumWorkWithin: Double
  /// Seconds a synchronous removal, barrier or the deferred releases may make no progress
  /// before the run reports a `stall` (``StallWatchdog``).
  public var stallTimeout = StallWatchdog.defaultTimeout

  /// A configuration; see the properties.
  public init(
    vcpus: Int, hotplug: Int = 1, consumers: Int = 1, duration: Double, devices: Int = 16,
    churnDevices: Int = 16, rings: Int = 8, ringCapacity: Int = defaultRingCapacity,
    flavor: FlavorChoice = .shipped(.memb), fault: ChurnFault = .none, faultEvery: Int = 1,
    seed: UInt64 = 1, minimumWorkWithin: Double = 0
  ) {
    self.minimumWorkWithin = minimumWorkWithin
    self.vcpus = vcpus
    self.hotplug = hotplug
    self.consumers = consumers
    self.duration = duration
    self.devices = devices
    self.churnDevices = churnDevices
    self.rings = rings
    self.ringCapacity = ringCapacity
    self.flavor = flavor
    self.fault = fault
    self.faultEvery = faultEvery
    self.seed = seed
  }

  /// Checks every option before anything starts.
  public func validate() throws(OptionError) {
    try RunLimits.checkDuration(duration)
    try RunLimits.checkExtension(minimumWorkWithin)
    try RunLimits.checkThreads("--vcpus", vcpus)
    try RunLimits.check("--churn-devices", churnDevices, in: 1...ChurnLayout.maximumChurnSlots)
    try RunLimits.check(
      "--hotplug", hotplug, in: 1...min(64, churnDevices),
      why: "each hotplug thread owns at least one churned slot")
    try RunLimits.check("--consumers", consumers, in: 1...64)
    try RunLimits.check(
      "--devices", devices, in: 1...ChurnLayout.maximumStableDevices,
      why: "the stable eventfds' address window")
    try RunLimits.check("--fault-every", faultEvery, in: 1...1_000_000)
    try RunLimits.check(
      "--rings", rings, in: (fault.isRingFault ? 1 : 0)...RingLayout.maximumSlots,
      why: fault.isRingFault ? "--fault \(fault.rawValue) needs rings" : nil)
    try RunLimits.check("--ring-capacity", ringCapacity, in: 2...65536)
    if faultEvery != 1 && !fault.takesRate {
      throw OptionError(
        "--fault-every does nothing with --fault \(fault.rawValue): it sets the rate of "
          + ChurnFault.allCases.filter(\.takesRate).map(\.rawValue).joined(separator: ", "))
    }
    try RunLimits.checkRunThreads(
      threads,
      parts: "--vcpus, --hotplug and --consumers"
        + (rings > 0 ? ", each of the last two twice with rings" : ""))
    _ = try ChurnLimits(self)
    try StallWatchdog.checkTimeout(stallTimeout)
  }

  /// The threads the run starts: vCPUs, hotplug threads and consumers, and with rings as
  /// many ring hotplug threads (one per slot at most) and ring consumers again.
  public var threads: Int {
    vcpus + hotplug + consumers + (rings > 0 ? min(hotplug, rings) + consumers : 0)
  }

  /// The arguments after `stress` that repeat this run: every setting spelled out.
  public var replayArguments: [String] {
    ["churn", "--vcpus", "\(vcpus)", "--hotplug", "\(hotplug)", "--consumers", "\(consumers)"]
      + ["--devices", "\(devices)", "--churn-devices", "\(churnDevices)", "--rings", "\(rings)"]
      + ["--ring-capacity", "\(ringCapacity)", "--fault", fault.rawValue]
      + (fault.takesRate ? ["--fault-every", "\(faultEvery)"] : [])
      + ["--duration", "\(duration)"]
      + (minimumWorkWithin > 0 ? ["--minimum-work-within", "\(minimumWorkWithin)"] : [])
      + (stallTimeout != StallWatchdog.defaultTimeout
        ? ["--stall-timeout", "\(stallTimeout)"] : [])
      + flavor.replayArguments + ["--seed", "\(seed)"]
  }

  /// Records per lane unless told otherwise: enough that a consumer thread descheduled for
  /// a while on a loaded machine never lets a lane fill (see README, "churn").
  public static let defaultRingCapacity = 16384
}

extension ChurnConfiguration {
  /// Runs churn with this configuration on its flavor.
  public func run() throws -> ChurnReport {
    try flavor.run(ChurnWork(configuration: self))
  }
}

/// A churn run, generic over the flavor ``FlavorChoice/run(_:)`` picks.
private struct ChurnWork: FlavorGenericWork {
  let configuration: ChurnConfiguration

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> ChurnReport {
    try configuration.runChurn(on: flavor)
  }
}
