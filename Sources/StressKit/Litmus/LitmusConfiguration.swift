import RCU
import RCUFaultFlavors

/// The least work a litmus run must do for "clean" to mean something; below it, the
/// verdict is inconclusive.
public struct LitmusMinimum: Codable, Sendable {
  /// Iterations of each test.
  public var iterations: UInt64
  /// Iterations of each test in which the reader's load came first, and as many in which
  /// the writer's store did: the two threads' accesses crossed both ways, so the window
  /// between them was really there to fall into.
  public var eachOrder: UInt64

  /// The defaults: enough that the slowest correct flavor (signal, whose grace period
  /// signals the reader) reaches them in a 10 s run, and that each window was crossed
  /// often.
  public static let standard = LitmusMinimum(iterations: 2_000, eachOrder: 100)

  public init(iterations: UInt64, eachOrder: UInt64) {
    self.iterations = iterations
    self.eachOrder = eachOrder
  }
}

/// Everything a litmus run was asked to do.
public struct LitmusConfiguration: Codable, Sendable {
  /// The tests, run in turn in slices of ``sliceSeconds``.
  public var tests: [LitmusTestName]
  public var duration: Double
  public var flavor: FlavorChoice
  /// A fault made around the flavor (``FaultyRCU``) or by the writer (`publish-before-init`,
  /// which the message-passing test catches).
  public var fault: TortureFault
  /// The fault fires once in this many opportunities.
  public var faultEvery: Int
  public var seed: UInt64
  public var minimum: LitmusMinimum
  /// Seconds a grace period, barrier or deferred callback may make no progress before the
  /// run reports a `stall`.
  public var stallTimeout: Double
  /// How long each test runs before the next takes its turn.
  public var sliceSeconds: Double
  /// Stop once every test has run this many iterations, if the duration has not ended
  /// first: how the suite bounds a run by work instead of time.
  public var iterationsPerTest: UInt64?
  /// How much longer than `duration` the run may go on to reach its minimum of work (0:
  /// it ends at `duration` whatever it did).
  public var minimumWorkWithin: Double = 0

  /// A configuration; see the properties.
  public init(
    tests: [LitmusTestName] = LitmusTestName.allCases, duration: Double,
    flavor: FlavorChoice = .shipped(.memb), fault: TortureFault = .none, faultEvery: Int? = nil,
    seed: UInt64 = 1, minimum: LitmusMinimum = .standard,
    stallTimeout: Double = StallWatchdog.defaultTimeout, sliceSeconds: Double = 0.1
  ) {
    self.tests = tests
    self.duration = duration
    self.flavor = flavor
    self.fault = fault
    self.faultEvery = faultEvery ?? fault.defaultEvery
    self.seed = seed
    self.minimum = minimum
    self.stallTimeout = stallTimeout
    self.sliceSeconds = sliceSeconds
  }

  /// Checks every option before anything starts.
  public func validate() throws(OptionError) {
    try RunLimits.checkDuration(duration)
    guard !tests.isEmpty, Set(tests).count == tests.count else {
      throw OptionError("--tests must name each test at most once, and at least one")
    }
    try RunLimits.check("--fault-every", faultEvery, in: 1...1_000_000_000)
    try StallWatchdog.checkTimeout(stallTimeout)
    guard minimumWorkWithin.isFinite, (0...3600).contains(minimumWorkWithin) else {
      throw OptionError(
        "--minimum-work-within must be between 0 and 3600 seconds, not \(minimumWorkWithin)")
    }
    guard sliceSeconds.isFinite, (0.001...10).contains(sliceSeconds) else {
      throw OptionError("--slice must be between 0.001 and 10 seconds, not \(sliceSeconds)")
    }
  }

  /// The arguments after `stress` that repeat this run: every setting spelled out.
  public var replayArguments: [String] {
    var arguments = ["litmus", "--tests", tests.map(\.rawValue).joined(separator: ",")]
    arguments += ["--fault", fault.rawValue]
    if fault != .none { arguments += ["--fault-every", "\(faultEvery)"] }
    arguments += ["--slice", "\(sliceSeconds)", "--duration", "\(duration)"]
    if minimumWorkWithin > 0 { arguments += ["--minimum-work-within", "\(minimumWorkWithin)"] }
    if stallTimeout != StallWatchdog.defaultTimeout {
      arguments += ["--stall-timeout", "\(stallTimeout)"]
    }
    return arguments + flavor.replayArguments + ["--seed", "\(seed)"]
  }

  /// The flavor-level fault to install, if the configured fault is one.
  var rcuFault: RCUFault? {
    fault.rcuFaultKind.map {
      RCUFault($0, every: faultEvery, afterMicroseconds: TortureFault.defaultAfterMicroseconds)
    }
  }
}
