import Foundation

/// An option out of range: reported before anything runs, with exit status 2.
public struct OptionError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What is wrong, naming the option as typed (`--vcpus must be between 1 and 32`).
  public let message: String

  /// An error saying `message`.
  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// The bounds every command checks its options against, before starting anything.
public enum RunLimits {
  /// The longest `--duration`: one week. Longer is a typo, and far beyond it the
  /// conversion to nanoseconds would overflow.
  public static let longestDuration: Double = 7 * 24 * 3600

  /// Threads of one kind (vCPUs, readers) allowed per core. Far beyond this the threads
  /// mostly wait for a core: starting and stopping them takes longer than the run, and
  /// each gets too little time to do the work a verdict needs.
  public static let threadsPerCore = 16

  /// The cores this process may run on.
  public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

  /// The most threads of one kind a run may start here.
  public static var maximumThreads: Int { threadsPerCore * cores }

  /// Checks `--duration` (seconds): a finite number above 0, at most ``longestDuration``.
  public static func checkDuration(_ seconds: Double) throws(OptionError) {
    guard seconds.isFinite, seconds > 0 else {
      throw OptionError("--duration must be a positive number of seconds, not \(seconds)")
    }
    guard seconds <= longestDuration else {
      throw OptionError(
        "--duration must be at most \(Int(longestDuration)) seconds (one week), not \(seconds)")
    }
  }

  /// Checks `--minimum-work-within` (seconds): 0, or a finite positive number of at most
  /// ``longestDuration``.
  public static func checkExtension(_ seconds: Double) throws(OptionError) {
    guard seconds.isFinite, seconds >= 0, seconds <= longestDuration else {
      throw OptionError(
        "--minimum-work-within must be 0 or a positive number of seconds, not \(seconds)")
    }
  }

  /// Checks that `value` of option `name` (as typed, `--vcpus`) lies in `range`; `why`
  /// explains the upper bound when it is not obvious.
  public static func check(
    _ name: String, _ value: Int, in range: ClosedRange<Int>, why: String? = nil
  ) throws(OptionError) {
    guard range.contains(value) else {
      throw OptionError(
        "\(name) must be between \(range.lowerBound) and \(range.upperBound), not \(value)"
          + (why.map { " (\($0))" } ?? ""))
    }
  }

  /// Threads a run may start in all, per core: its vCPUs or readers, hotplug threads,
  /// consumers and writers together. Past it, on a loaded machine, the run could not end on
  /// time: grace periods wait for readers that do not get a core, threads stuck in them
  /// hold the run's end, and the kernel took seconds to tear down a process of hundreds of
  /// threads (`churn` with 32 vCPUs, 128 hotplug and 128 consumer threads on two cores
  /// beside two CPU hogs ended 2-5 s past its bound).
  public static let runThreadsPerCore = 32

  /// The most threads a run may start here, in all.
  public static var maximumRunThreads: Int { runThreadsPerCore * cores }

  /// Checks the threads a run starts in all (`total`, made of what `parts` names) against
  /// ``maximumRunThreads``.
  public static func checkRunThreads(_ total: Int, parts: String) throws(OptionError) {
    guard total <= maximumRunThreads else {
      throw OptionError(
        "these settings start \(total) threads (\(parts)); at most \(runThreadsPerCore) per "
          + "core, \(maximumRunThreads) on this machine's \(cores) core(s), or the run could "
          + "not end on time")
    }
  }

  /// Checks a thread count against ``maximumThreads``.
  public static func checkThreads(_ name: String, _ value: Int) throws(OptionError) {
    try check(
      name, value, in: 1...maximumThreads,
      why: "\(threadsPerCore) per core on this machine's \(cores) core(s)")
  }
}
