import RCU

/// What `GuestChurn.run` does: real guest vCPUs writing while hotplug threads churn
/// ioeventfd registrations on the (address, value) pairs the guests write.
public struct GuestChurnConfiguration: Sendable, Hashable, Codable {
  /// Keep starting guest rounds until this much time has passed.
  public var duration: Duration
  /// Guest vCPUs, each running the same program on its own thread.
  public var vcpus: Int
  /// Threads that register and unregister the churned eventfds.
  public var hotplugThreads: Int
  /// Eventfd registrations that stay on the bus for the whole run.
  public var stableDevices: Int
  /// Written (address, value) pairs whose eventfd registration comes and goes.
  public var churnDevices: Int
  /// Mirror every eventfd registration into KVM_IOEVENTFD.
  public var kernelIOEventFD: Bool
  /// The RCU flavor of the buses.
  public var flavor: FlavorChoice
  /// Seeds the choice of which pairs are stable, churned, or never registered, and the
  /// hotplug threads' choices.
  public var seed: UInt64
  /// Loop iterations of one guest round; nil to calibrate (about 0.2 s per round).
  public var roundIterations: Int?
  /// Add sequenced guest writes to coalesced MMIO and port ranges, whose registrations
  /// hotplug threads move in and out of the kernel and on and off the bus.
  public var coalesced: Bool
  /// Coalesced ranges whose registrations come and go (with ``coalesced``); two more, one
  /// per space, stay registered for the whole run.
  public var coalescedRanges: Int
  /// The injected fault.
  public var fault: GuestFault
  /// The fault's rate (see ``GuestFault/everyUnit``); nil for its default.
  public var faultEvery: Int?
  /// How much longer than `duration` the run may go on (in more rounds) to reach its
  /// minimum of work; zero: it ends at `duration` whatever it did.
  public var minimumWorkWithin: Duration = .zero
  /// Seconds a synchronous removal, barrier or the deferred releases may make no progress
  /// before the run reports a `stall` (``StallWatchdog``).
  public var stallTimeout = StallWatchdog.defaultTimeout

  /// The most registered pairs (stable plus churned) the guest program has room for: its
  /// port writes stay below the port it reads.
  public static let maximumRegisteredPairs = 1024

  /// A configuration; see the properties.
  public init(
    duration: Duration, vcpus: Int, hotplugThreads: Int = 1, stableDevices: Int = 16,
    churnDevices: Int = 16, kernelIOEventFD: Bool = false, flavor: FlavorChoice = .shipped(.memb),
    seed: UInt64 = 1, roundIterations: Int? = nil, coalesced: Bool = false,
    coalescedRanges: Int = 6, fault: GuestFault = .none, faultEvery: Int? = nil
  ) {
    self.duration = duration
    self.vcpus = vcpus
    self.hotplugThreads = hotplugThreads
    self.stableDevices = stableDevices
    self.churnDevices = churnDevices
    self.kernelIOEventFD = kernelIOEventFD
    self.flavor = flavor
    self.seed = seed
    self.roundIterations = roundIterations
    self.coalesced = coalesced
    self.coalescedRanges = coalescedRanges
    self.fault = fault
    self.faultEvery = faultEvery
  }

  /// The most churned coalesced ranges: each is a KVM device while it is a zone, and each
  /// is written once per loop iteration.
  public static let maximumCoalescedRanges = 64

  /// The fault's rate: `faultEvery`, or the fault's default.
  public var faultRate: Int { faultEvery ?? fault.defaultEvery }

  /// Checks every option that does not need /dev/kvm (the vCPU limit of KVM itself is
  /// checked by `GuestChurn.run` before anything starts).
  public func validate() throws(OptionError) {
    try RunLimits.checkDuration(duration.seconds)
    try RunLimits.checkExtension(minimumWorkWithin.seconds)
    try RunLimits.checkThreads("--vcpus", vcpus)
    try RunLimits.check(
      "--churn-devices", churnDevices, in: 1...Self.maximumRegisteredPairs,
      why: "churn needs at least one pair to churn")
    try RunLimits.check(
      "--devices", stableDevices, in: 0...(Self.maximumRegisteredPairs - churnDevices),
      why: "--devices plus --churn-devices at most \(Self.maximumRegisteredPairs)")
    try RunLimits.check(
      "--hotplug", hotplugThreads, in: 1...min(64, churnDevices),
      why: "each hotplug thread owns at least one churned pair")
    try RunLimits.check(
      "--coalesced-ranges", coalescedRanges, in: 1...Self.maximumCoalescedRanges)
    try RunLimits.checkRunThreads(
      vcpus + hotplugThreads + (coalesced ? min(hotplugThreads, coalescedRanges) : 0) + 2,
      parts: "--vcpus, --hotplug (twice with --coalesced), a consumer and a settler")
    if let faultEvery {
      try RunLimits.check("--fault-every", faultEvery, in: 1...1_000_000)
      if fault == .none { throw OptionError("--fault-every needs a --fault") }
    }
    if fault.needsCoalesced && !coalesced {
      throw OptionError("--fault \(fault.rawValue) works on coalesced ranges: add --coalesced")
    }
    if fault == .skipGracePeriod && kernelIOEventFD && !coalesced {
      throw OptionError(
        "--fault skip-grace-period needs a removal that can release early: KVM_IOEVENTFD "
          + "deassigns synchronously, so drop --kernel-ioeventfd or add --coalesced")
    }
    if let roundIterations {
      try RunLimits.check("round iterations", roundIterations, in: 1...100_000_000)
    }
    try StallWatchdog.checkTimeout(stallTimeout)
  }
}

extension GuestChurnConfiguration {
  /// The arguments after `stress` that repeat this run: every setting spelled out (the
  /// guest round's length is calibrated on the machine, so it is not among them).
  public var replayArguments: [String] {
    [
      "kvm", "--vcpus", "\(vcpus)", "--hotplug", "\(hotplugThreads)", "--devices",
      "\(stableDevices)",
    ]
      + ["--churn-devices", "\(churnDevices)"]
      + (kernelIOEventFD ? ["--kernel-ioeventfd"] : [])
      + (coalesced ? ["--coalesced", "--coalesced-ranges", "\(coalescedRanges)"] : [])
      + ["--fault", fault.rawValue] + (fault == .none ? [] : ["--fault-every", "\(faultRate)"])
      + ["--duration", "\(duration.seconds)"]
      + (minimumWorkWithin > .zero
        ? ["--minimum-work-within", "\(minimumWorkWithin.seconds)"] : [])
      + flavor.replayArguments + ["--seed", "\(seed)"]
  }
}

extension Duration {
  /// The duration in seconds as a floating-point number.
  public var seconds: Double {
    let (whole, fraction) = components
    return Double(whole) + Double(fraction) / 1e18
  }
}
