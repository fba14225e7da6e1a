import ArgumentParser
import StressKit

/// `stress churn`: vCPU threads dispatch while hotplug threads churn registrations.
struct ChurnCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "churn",
    abstract: "vCPU threads dispatch while hotplug threads register and unregister devices.",
    discussion: """
      Checks that no signal is lost, none is spurious, no device is entered (and no eventfd \
      signalled) after its unregister returned, no thread is inside a removed device and \
      no vCPU is still in a read-side section from before a removal when its grace period \
      has passed, and everything is reclaimed at the end; every value a ring claimed is \
      delivered exactly once, in its vCPU's order, and none after its unregister returned. \
      A run too short to judge is inconclusive (exit 2).
      """
  )

  @OptionGroup var common: CommonOptions
  @OptionGroup var stall: StallOptions

  @Option(
    parsing: .unconditional,
    help: "vCPU threads dispatching guest writes; defaults to the number of cores.")
  var vcpus: Int = RunLimits.cores

  @Option(parsing: .unconditional, help: "Hotplug threads registering and unregistering devices.")
  var hotplug: Int = 1

  @Option(parsing: .unconditional, help: "Consumer threads draining eventfds through epoll.")
  var consumers: Int = 1

  @Option(parsing: .unconditional, help: "Stable eventfd registrations that stay registered.")
  var devices: Int = 16

  @Option(
    parsing: .unconditional,
    help: "Churned slots, each an eventfd and a range device that come and go.")
  var churnDevices: Int = 16

  @Option(
    parsing: .unconditional,
    help: """
      Churned value-ring slots (exact-address and range rings, registered, moved and \
      unregistered while consumers drain them); 0 for none.
      """)
  var rings: Int = 8

  @Option(parsing: .unconditional, help: "Records per producer lane of each ring.")
  var ringCapacity: Int = ChurnConfiguration.defaultRingCapacity

  @Option(
    help:
      "A deliberate bug to inject: \(ChurnFault.allCases.map(\.rawValue).joined(separator: "|")).")
  var fault: ChurnFault = .none

  @Option(
    parsing: .unconditional,
    help: """
      With --fault skip-grace-period: one removal in N skips its grace period; with \
      ring-drop, ring-duplicate, ring-reorder or ring-silent-drop: one ring value in N is hit.
      """)
  var faultEvery: Int = 1

  var churnConfiguration: ChurnConfiguration {
    var configuration = ChurnConfiguration(
      vcpus: vcpus, hotplug: hotplug, consumers: consumers, duration: common.duration,
      devices: devices, churnDevices: churnDevices, rings: rings, ringCapacity: ringCapacity,
      flavor: common.flavor, fault: fault,
      faultEvery: faultEvery, seed: common.seed)
    configuration.stallTimeout = stall.timeout
    return configuration
  }

  func validate() throws {
    try validated { () throws(OptionError) in try churnConfiguration.validate() }
  }

  func run() throws {
    let json = try common.jsonDestination()
    CrashGuard.install(command: "churn", json: json)
    let report = try churnConfiguration.run()
    throw ExitStatus(code: report.deliver(json: json))
  }
}
