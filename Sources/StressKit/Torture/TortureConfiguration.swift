import RCU
import RCUFaultFlavors

/// A deliberate bug a torture run injects, to prove its checks catch it. See
/// ``FaultCatalogue`` for the detector each must trip.
public enum TortureFault: Hashable, Sendable {
  /// No fault: the run must be clean.
  case none
  /// A grace-period bug `FaultyRCU` injects into the chosen flavor (each `RCUFaultKind`:
  /// a grace period skipped or cut short, a callback run early, lost or twice, a section
  /// not entered, an unlock that ends the outer section), once in N opportunities.
  case rcu(RCUFaultKind)
  /// The writer publishes an element before setting the field readers check, once in N
  /// updates.
  case publishBeforeInit

  /// The flavor-level fault, for those ``FaultyRCU`` injects.
  public var rcuFaultKind: RCUFaultKind? {
    if case .rcu(let kind) = self { kind } else { nil }
  }

  /// "Once in N" when `--fault-every` is not given: every call for a grace period cut
  /// short (its rate is the timeout), once in 100 for the others.
  public var defaultEvery: Int { self == .rcu(.shortGracePeriod) ? 1 : 100 }

  /// How many times the fault fired in a run: ``RCUFaultInjection``'s count for a
  /// flavor-level fault, else `writerFirings`, the count of the writer that makes it.
  func firings(writerFirings: UInt64) -> UInt64 {
    rcuFaultKind == nil ? writerFirings : RCUFaultInjection.firings
  }

  /// `--fault-after-us` when not given.
  public static var defaultAfterMicroseconds: Int { 100 }
}

extension TortureFault: RawRepresentable, CaseIterable, Codable, NamedCases {
  /// No fault, every `RCUFaultKind`, then the writer's fault.
  public static var allCases: [TortureFault] {
    [.none] + RCUFaultKind.allCases.map(TortureFault.rcu) + [.publishBeforeInit]
  }

  /// The name on the command line and in reports: `none`, the `RCUFaultKind`'s name, or
  /// `publish-before-init`.
  public var rawValue: String {
    switch self {
    case .none: "none"
    case .rcu(let kind): kind.rawValue
    case .publishBeforeInit: "publish-before-init"
    }
  }
}

/// The least work a torture run must do for "clean" to mean something; below it, the
/// verdict is inconclusive.
public struct TortureMinimum: Codable, Sendable {
  public var reads: UInt64
  public var gracePeriods: UInt64
  public var callbacks: UInt64

  /// The defaults: enough that every check had many chances to fire.
  public static let standard = TortureMinimum(reads: 10_000, gracePeriods: 100, callbacks: 100)

  public init(reads: UInt64, gracePeriods: UInt64, callbacks: UInt64) {
    self.reads = reads
    self.gracePeriods = gracePeriods
    self.callbacks = callbacks
  }
}

/// Everything a torture run was asked to do.
public struct TortureConfiguration: Codable, Sendable {
  /// Reader threads.
  public var readers: Int
  /// Updater threads calling `synchronize()` and queuing callbacks beside the writer.
  public var fakeWriters: Int
  public var duration: Double
  public var flavor: FlavorChoice
  public var fault: TortureFault
  /// The fault fires once in this many opportunities.
  public var faultEvery: Int
  /// For `short-grace-period`: how long `synchronize()` waits before giving up.
  public var faultAfterMicroseconds: Int
  public var seed: UInt64
  public var minimum: TortureMinimum
  /// How much longer than `duration` the run may go on to reach its minimum of work (0:
  /// it ends at `duration` whatever it did).
  public var minimumWorkWithin: Double
  /// Seconds a grace period, barrier or the deferred callbacks may make no progress before
  /// the run reports a `stall` (``StallWatchdog``).
  public var stallTimeout: Double

  /// A configuration; see the properties.
  public init(
    readers: Int, fakeWriters: Int = 2, duration: Double, flavor: FlavorChoice = .shipped(.memb),
    fault: TortureFault = .none, faultEvery: Int? = nil,
    faultAfterMicroseconds: Int = TortureFault.defaultAfterMicroseconds,
    seed: UInt64 = 1, minimum: TortureMinimum = .standard, minimumWorkWithin: Double = 0,
    stallTimeout: Double = StallWatchdog.defaultTimeout
  ) {
    self.minimumWorkWithin = minimumWorkWithin
    self.readers = readers
    self.fakeWriters = fakeWriters
    self.duration = duration
    self.flavor = flavor
    self.fault = fault
    self.faultEvery = faultEvery ?? fault.defaultEvery
    self.faultAfterMicroseconds = faultAfterMicroseconds
    self.seed = seed
    self.minimum = minimum
    self.stallTimeout = stallTimeout
  }

  /// Checks every option before anything starts.
  public func validate() throws(OptionError) {
    try RunLimits.checkDuration(duration)
    try RunLimits.checkExtension(minimumWorkWithin)
    try RunLimits.checkThreads("--readers", readers)
    try RunLimits.check("--fake-writers", fakeWriters, in: 0...64)
    try RunLimits.checkRunThreads(
      readers + fakeWriters + 1, parts: "--readers, --fake-writers and the writer")
    try RunLimits.check("--fault-every", faultEvery, in: 1...1_000_000_000)
    try RunLimits.check(
      "--fault-after-us", faultAfterMicroseconds, in: 0...10_000_000, why: "ten seconds")
    if fault != .rcu(.shortGracePeriod)
      && faultAfterMicroseconds != TortureFault.defaultAfterMicroseconds
    {
      throw OptionError(
        "--fault-after-us does nothing with --fault \(fault.rawValue): it sets how long "
          + "short-grace-period waits")
    }
    try StallWatchdog.checkTimeout(stallTimeout)
  }

  /// The arguments after `stress` that repeat this run: every setting spelled out.
  public var replayArguments: [String] {
    ["torture", "--readers", "\(readers)", "--fake-writers", "\(fakeWriters)"]
      + ["--fault", fault.rawValue]
      + (fault == .none ? [] : ["--fault-every", "\(faultEvery)"])
      + (fault == .rcu(.shortGracePeriod)
        ? ["--fault-after-us", "\(faultAfterMicroseconds)"] : [])
      + ["--duration", "\(duration)"]
      + (minimumWorkWithin > 0 ? ["--minimum-work-within", "\(minimumWorkWithin)"] : [])
      + (stallTimeout != StallWatchdog.defaultTimeout
        ? ["--stall-timeout", "\(stallTimeout)"] : [])
      + flavor.replayArguments + ["--seed", "\(seed)"]
  }

  /// The flavor-level fault to install, if the configured fault is one.
  var rcuFault: RCUFault? {
    fault.rcuFaultKind.map {
      RCUFault($0, every: faultEvery, afterMicroseconds: faultAfterMicroseconds)
    }
  }
}
