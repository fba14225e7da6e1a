import RCU

/// What `stress vhost` runs: block guests on real vCPUs driving virtio-blk queues served by
/// `qemu-storage-daemon`, while a hotplug thread switches the queues' kick notifiers and the
/// guests stop, restart and move their queues.
public struct VhostConfiguration: Sendable, Hashable, Codable {
  /// Keep starting rounds until this much time has passed.
  public var duration: Duration
  /// Guest vCPUs, each driving its own queue.
  public var vcpus: Int
  /// Kick switches the hotplug thread aims for per second.
  public var switchesPerSecond: Int
  /// How long a request may wait after its kick before it counts as lost (and, after as
  /// long again without completing, as a lost kick or a lost call).
  public var kickBound: Duration
  /// Kicks bound on the bus and mirrored into KVM_IOEVENTFD (true), or on the bus alone.
  public var kernelIOEventFD: Bool
  /// The RCU flavor of the bus.
  public var flavor: FlavorChoice
  /// Seeds the data patterns and the hotplug thread's choices.
  public var seed: UInt64
  /// Operations (write, read back, maybe flush) per vCPU per round.
  public var operationsPerRound: Int
  /// Every this many operations a guest stops and restarts its queue, and half-way between
  /// moves its notify address (device callbacks); 0 for none.
  public var guestChurnEvery: Int
  /// The injected fault.
  public var fault: VhostFault
  /// The fault's rate; nil for its default.
  public var faultEvery: Int?

  /// A configuration; see the properties.
  public init(
    duration: Duration, vcpus: Int, switchesPerSecond: Int = 200,
    kickBound: Duration = .seconds(5), kernelIOEventFD: Bool = true,
    flavor: FlavorChoice = .shipped(.memb), seed: UInt64 = 1, operationsPerRound: Int = 64,
    guestChurnEvery: Int = 16, fault: VhostFault = .none, faultEvery: Int? = nil
  ) {
    self.duration = duration
    self.vcpus = vcpus
    self.switchesPerSecond = switchesPerSecond
    self.kickBound = kickBound
    self.kernelIOEventFD = kernelIOEventFD
    self.flavor = flavor
    self.seed = seed
    self.operationsPerRound = operationsPerRound
    self.guestChurnEvery = guestChurnEvery
    self.fault = fault
    self.faultEvery = faultEvery
  }

  /// The fault's rate: `faultEvery`, or the fault's default.
  public var faultRate: Int { faultEvery ?? fault.defaultEvery }

  /// The arguments after `stress` that repeat this run: every setting spelled out.
  public var replayArguments: [String] {
    ["vhost", "--vcpus", "\(vcpus)", "--switches-per-second", "\(switchesPerSecond)"]
      + ["--kick-bound-ms", "\(Int(kickBound.seconds * 1000))"]
      + (kernelIOEventFD ? [] : ["--bus-only"])
      + ["--operations-per-round", "\(operationsPerRound)"]
      + ["--guest-churn-every", "\(guestChurnEvery)", "--fault", fault.rawValue]
      + (fault == .none ? [] : ["--fault-every", "\(faultRate)"])
      + ["--duration", "\(duration.seconds)"] + flavor.replayArguments + ["--seed", "\(seed)"]
  }

  /// Checks every option that does not need /dev/kvm or the back end.
  public func validate() throws(OptionError) {
    try RunLimits.checkDuration(duration.seconds)
    try RunLimits.check("--vcpus", vcpus, in: 1...8, why: "one queue each, 8 at most")
    try RunLimits.check("--switches-per-second", switchesPerSecond, in: 0...100_000)
    try RunLimits.check(
      "--kick-bound-ms", Int(kickBound.seconds * 1000), in: 10...60_000)
    try RunLimits.check("--operations-per-round", operationsPerRound, in: 1...300)
    if guestChurnEvery != 0 {
      guard guestChurnEvery >= 2, guestChurnEvery & (guestChurnEvery - 1) == 0 else {
        throw OptionError(
          "--guest-churn-every must be 0 or a power of two from 2, not \(guestChurnEvery)")
      }
    }
    if let faultEvery { try RunLimits.check("--fault-every", faultEvery, in: 1...1_000_000) }
    if (fault == .dropKick || fault == .unregisterBeforeSwitch) && switchesPerSecond == 0 {
      throw OptionError(
        "--fault \(fault.rawValue) breaks kick switches: --switches-per-second must be above 0")
    }
  }
}
