import RCUFaultFlavors

/// A deliberate bug a torture run injects, to prove its checks catch it. See
/// ``FaultCatalogue`` for the detector each must trip.
public enum TortureFault: String, CaseIterable, Codable, Sendable {
  case none
  /// `synchronize()` returns without waiting, once in N calls.
  case skipGracePeriod = "skip-grace-period"
  /// `synchronize()` gives up after T microseconds, once in N calls (every call by default).
  case shortGracePeriod = "short-grace-period"
  /// A deferred callback runs at once, once in N.
  case earlyCallback = "early-callback"
  /// A deferred callback never runs, once in N.
  case lostCallback = "lost-callback"
  /// A deferred callback runs twice, once in N.
  case doubleCallback = "double-callback"
  /// An outermost read-side section is not really entered, once in N per reader.
  case unprotectedSection = "unprotected-section"
  /// An inner unlock also ends the outer section, once in N per reader.
  case nestingBug = "nesting-bug"
  /// The writer publishes an element before setting the field readers check, once in N
  /// updates.
  case publishBeforeInit = "publish-before-init"

  /// The flavor-level fault, for those ``FaultyRCU`` injects.
  public var rcuFaultKind: RCUFaultKind? { RCUFaultKind(rawValue: rawValue) }

  /// "Once in N" when `--fault-every` is not given: every call for a grace period cut
  /// short (its rate is the timeout), once in 100 for the others.
  public var defaultEvery: Int { self == .shortGracePeriod ? 1 : 100 }

  /// `--fault-after-us` when not given.
  public static var defaultAfterMicroseconds: Int { 100 }
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

  /// A configuration; see the properties.
  public init(
    readers: Int, fakeWriters: Int = 2, duration: Double, flavor: FlavorChoice = .memb,
    fault: TortureFault = .none, faultEvery: Int? = nil,
    faultAfterMicroseconds: Int = TortureFault.defaultAfterMicroseconds,
    seed: UInt64 = 1, minimum: TortureMinimum = .standard
  ) {
    self.readers = readers
    self.fakeWriters = fakeWriters
    self.duration = duration
    self.flavor = flavor
    self.fault = fault
    self.faultEvery = faultEvery ?? fault.defaultEvery
    self.faultAfterMicroseconds = faultAfterMicroseconds
    self.seed = seed
    self.minimum = minimum
  }

  /// Checks every option before anything starts.
  public func validate() throws(OptionError) {
    try RunLimits.checkDuration(duration)
    try RunLimits.checkThreads("--readers", readers)
    try RunLimits.check("--fake-writers", fakeWriters, in: 0...64)
    try RunLimits.check("--fault-every", faultEvery, in: 1...1_000_000_000)
    try RunLimits.check(
      "--fault-after-us", faultAfterMicroseconds, in: 0...10_000_000, why: "ten seconds")
  }

  /// The flavor-level fault to install, if the configured fault is one.
  var rcuFault: RCUFault? {
    fault.rcuFaultKind.map {
      RCUFault($0, every: faultEvery, afterMicroseconds: faultAfterMicroseconds)
    }
  }
}
