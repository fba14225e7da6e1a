import ArgumentParser
import Foundation
import StressKit

extension TortureFault: ExpressibleByArgument {}

/// `stress torture`: an rcutorture-style check of one RCU flavor alone.
struct TortureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "torture",
    abstract: "An rcutorture-style check of one RCU flavor alone.",
    discussion: """
      Readers hold published elements through sections of varied length (nested, asleep, \
      yielding); a writer replaces them and waits for grace periods; fake writers add \
      grace periods and checked deferred callbacks. Violations: a synchronize that started \
      after a reader entered and returned before it left (grace-period-overlap), an element \
      held after the writer waited a grace period for it (grace-period-age), an element \
      seen uninitialized (publish-ordering), a deferred callback run early, twice, or not \
      by barrier() (callback-early, callback-duplicate, callback-lost), a snapshot never \
      reclaimed (reclamation), a synchronize, barrier or callback queue that made no \
      progress for --stall-timeout (stall). A run that did too little work, or in which \
      the tool ran short, is inconclusive (exit 2).

      Bounds: the run ends within --duration plus max(2 s, 10%), loaded or not, with at \
      most 32 threads per core in all (readers, fake writers, the writer); a thread \
      still inside synchronize() or barrier() then is left behind and the run is \
      inconclusive (unless it waited past --stall-timeout: a stall). Descriptors: a \
      handful (no eventfds). Memory: fixed tables, plus at most 256 callbacks per writer \
      awaiting their barrier().
      """
  )

  @OptionGroup var common: CommonOptions
  @OptionGroup var stall: StallOptions

  @Option(parsing: .unconditional, help: "Reader threads; defaults to the number of cores.")
  var readers: Int = RunLimits.cores

  @Option(
    parsing: .unconditional,
    help: "Threads calling synchronize and queuing callbacks beside the writer.")
  var fakeWriters: Int = 2

  @Option(
    help: """
      A deliberate bug to inject: \(TortureFault.allCases.map(\.rawValue).joined(separator: "|")) \
      (see `stress faults --list`).
      """)
  var fault: TortureFault = .none

  @Option(
    parsing: .unconditional,
    help: """
      The fault fires once in N opportunities (synchronize calls, deferrals, outermost \
      sections, inner unlocks or updates); default 1 for short-grace-period, else 100.
      """)
  var faultEvery: Int?

  @Option(
    name: .customLong("fault-after-us"), parsing: .unconditional,
    help: """
      short-grace-period: give up after T us (default \(TortureFault.defaultAfterMicroseconds)); \
      refused with any other fault.
      """)
  var faultAfterMicroseconds: Int?

  var torture: TortureConfiguration {
    TortureConfiguration(
      readers: readers, fakeWriters: fakeWriters, duration: common.duration,
      flavor: common.flavor, fault: fault, faultEvery: faultEvery,
      faultAfterMicroseconds: faultAfterMicroseconds ?? TortureFault.defaultAfterMicroseconds,
      seed: common.seed, minimumWorkWithin: common.minimumWorkWithin,
      stallTimeout: stall.timeout)
  }

  func validate() throws {
    if fault == .none && faultEvery != nil {
      throw ValidationError("--fault-every needs a --fault")
    }
    if faultAfterMicroseconds != nil && fault != .rcu(.shortGracePeriod) {
      throw ValidationError(
        "--fault-after-us does nothing with --fault \(fault.rawValue): it sets how long "
          + "short-grace-period waits")
    }
    try validated { () throws(OptionError) in try torture.validate() }
  }

  func run() throws {
    try common.runCheck("torture", replay: torture.replayArguments) { try Torture.run(torture) }
  }
}
