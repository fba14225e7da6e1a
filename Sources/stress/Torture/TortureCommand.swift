import RCUTestSupport
import StressKit
import ArgumentParser
import Foundation
import RCU

/// `stress torture`: an rcutorture-style check of the RCU layer alone.
struct TortureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "torture",
    abstract: "An rcutorture-style check of the RCU layer alone.",
    discussion: """
      Readers record the pipeline age of the element they hold (grace periods since it was \
      replaced); an age of 2 or more, or an element whose pre-publication marker is not set, \
      is a violation.
      """
  )

  @OptionGroup var common: CommonOptions

  @Option(help: "Reader threads; defaults to the number of cores.")
  var readers: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(help: "A deliberate bug to inject: none|skip-grace-period.")
  var fault: TortureFault = .none

  enum TortureFault: String, ExpressibleByArgument, CaseIterable {
    case none
    case skipGracePeriod = "skip-grace-period"
  }

  func validate() throws {
    try validated { () throws(OptionError) in try RunLimits.checkThreads("--readers", readers) }
  }

  func run() throws {
    CrashGuard.install()
    let skip = fault == .skipGracePeriod
    let report: TortureReport
    switch common.flavor {
    case .memb:
      report = try TortureRun<MembRCU>(
        readers: readers, duration: common.duration, skipGracePeriod: skip, seed: common.seed
      ).run()
    case .bp:
      report = try TortureRun<BulletproofRCU>(
        readers: readers, duration: common.duration, skipGracePeriod: skip, seed: common.seed
      ).run()
    case .broken:
      report = try TortureRun<BrokenRCU>(
        readers: readers, duration: common.duration, skipGracePeriod: skip, seed: common.seed
      ).run()
    }
    print(report.text)
    try writeJSON(report, to: common.json)
    if !report.clean { throw ExitStatus.violations }
  }
}
