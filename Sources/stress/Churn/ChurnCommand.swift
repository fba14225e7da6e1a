import RCUTestSupport
import StressKit
import ArgumentParser
import Foundation
import RCU

/// `stress churn`: vCPU threads dispatch while hotplug threads churn registrations.
struct ChurnCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "churn",
    abstract: "vCPU threads dispatch while hotplug threads register and unregister devices.",
    discussion: """
      Checks that no signal is lost, none is spurious, no device is entered (and no eventfd \
      signalled) after its unregister returned, and everything is reclaimed at the end.
      """
  )

  @OptionGroup var common: CommonOptions

  @Option(help: "vCPU threads dispatching guest writes; defaults to the number of cores.")
  var vcpus: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(help: "Hotplug threads registering and unregistering devices.")
  var hotplug: Int = 1

  @Option(help: "Consumer threads draining eventfds through epoll.")
  var consumers: Int = 1

  @Option(help: "Stable eventfd registrations that stay registered throughout.")
  var devices: Int = 16

  @Option(help: "Churned slots, each an eventfd and a range device that come and go.")
  var churnDevices: Int = 16

  @Option(
    help:
      "A deliberate bug to inject: \(ChurnFault.allCases.map(\.rawValue).joined(separator: "|")).")
  var fault: ChurnFault = .none

  func validate() throws {
    for (name, value, limit) in [
      ("--vcpus", vcpus, 1024), ("--hotplug", hotplug, 64), ("--consumers", consumers, 64),
      ("--devices", devices, 100_000), ("--churn-devices", churnDevices, 4096),
    ] where value < 1 || value > limit {
      throw ValidationError("\(name) must be between 1 and \(limit)")
    }
  }

  func run() throws {
    CrashGuard.install()
    let configuration = ChurnConfiguration(
      vcpus: vcpus, hotplug: hotplug, consumers: consumers, duration: common.duration,
      devices: devices, churnDevices: churnDevices, flavor: common.flavor, fault: fault,
      seed: common.seed)
    let report: ChurnReport
    switch common.flavor {
    case .memb: report = try ChurnRun<MembRCU>(configuration).run()
    case .bp: report = try ChurnRun<BulletproofRCU>(configuration).run()
    case .broken: report = try ChurnRun<BrokenRCU>(configuration).run()
    }
    print(report.text)
    try writeJSON(report, to: common.json)
    if !report.clean { throw ExitStatus.violations }
  }
}
