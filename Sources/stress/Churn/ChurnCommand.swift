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
      A run too short to judge, or one in which the tool itself ran short (descriptors, \
      memory, threads, a checker behind, time), is inconclusive (exit 2), naming why.

      Bounds: the run ends within --duration plus max(2 s, 10%), loaded or not; it starts \
      at most 32 threads per core in all (vCPUs, hotplug and consumer threads, the last two \
      twice with rings). Descriptors: the stable eventfds, one per churned slot, two \
      pollers per consumer, and at most 4096 retired eventfds and a few per open ring, all \
      within the hard descriptor limit (settings that need more are refused up front). \
      Memory: open rings' lanes (vCPUs x capacity x 24 bytes each) at most 192 MiB, at most \
      1,000,000 ring values awaiting reconciliation; past either bound, fewer rings are \
      plugged or ring writes are skipped (back-pressure), never queued.
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
      With --fault skip-grace-period: one removal in N skips its grace period (default 1); \
      with ring-drop, ring-duplicate, ring-reorder or ring-silent-drop: one ring value in N \
      is hit. Refused with any other fault, where it would do nothing.
      """)
  var faultEvery: Int?

  var churnConfiguration: ChurnConfiguration {
    var configuration = ChurnConfiguration(
      vcpus: vcpus, hotplug: hotplug, consumers: consumers, duration: common.duration,
      devices: devices, churnDevices: churnDevices, rings: rings, ringCapacity: ringCapacity,
      flavor: common.flavor, fault: fault,
      faultEvery: faultEvery ?? 1, seed: common.seed,
      minimumWorkWithin: common.minimumWorkWithin)
    configuration.stallTimeout = stall.timeout
    return configuration
  }

  func validate() throws {
    if faultEvery != nil && !fault.takesRate {
      throw ValidationError(
        "--fault-every does nothing with --fault \(fault.rawValue): it sets the rate of "
          + ChurnFault.allCases.filter(\.takesRate).map(\.rawValue).joined(separator: ", "))
    }
    try validated { () throws(OptionError) in try churnConfiguration.validate() }
  }

  func run() throws {
    try common.runCheck("churn", replay: churnConfiguration.replayArguments) {
      try churnConfiguration.run()
    }
  }
}
