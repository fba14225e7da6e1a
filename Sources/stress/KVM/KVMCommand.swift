import RCUTestSupport
import StressKit
import ArgumentParser
import Foundation
import KVM
import RCU

/// `stress kvm`: the churn accounting with real guest vCPUs under KVM, or (`--compare`)
/// guest write rates along the exit paths.
struct KVMCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kvm",
    abstract: "Real KVM guests write while hotplug threads churn eventfd registrations.",
    discussion: """
      For every (address, value) the guests wrote, drained eventfd counts plus unclaimed \
      writes seen by the run loop must equal the writes executed, exactly. Guests run in \
      rounds of a fixed iteration count until --duration passes. Needs /dev/kvm (exit 2 \
      without it).
      """
  )

  @OptionGroup var common: CommonOptions

  @Option(help: "Guest vCPUs (default: min(cores, KVM_CAP_NR_VCPUS)).")
  var vcpus: Int?

  @Option(help: "Hotplug threads churning eventfd registrations.")
  var hotplug: Int = 1

  @Option(help: "Eventfd registrations that stay for the whole run.")
  var devices: Int = 16

  @Option(help: "Written (address, value) pairs whose eventfd registration comes and goes.")
  var churnDevices: Int = 16

  @Flag(
    name: .customLong("kernel-ioeventfd"),
    help: "Mirror eventfd registrations into KVM_IOEVENTFD, as QEMU does.")
  var kernelIOEventFD = false

  @Flag(
    help: """
      Measure guest writes per second: bare exit, bus dispatch (on --flavor), kernel \
      ioeventfd; then coalesced writes against exits and kernel ioeventfds.
      """)
  var compare = false

  @Option(help: "Alternating repeats of each path for --compare.")
  var repeats: Int = 5

  @Option(help: "Guest writes per measured run for --compare.")
  var iterations: Int = 100_000

  mutating func validate() throws {
    guard hotplug >= 0, devices >= 0, churnDevices >= 0 else {
      throw ValidationError("--hotplug, --devices and --churn-devices must be >= 0")
    }
    guard repeats >= 1, iterations >= 1 else {
      throw ValidationError("--repeats and --iterations must be >= 1")
    }
    if let vcpus, vcpus < 1 { throw ValidationError("--vcpus must be >= 1") }
  }

  func run() throws {
    let system: KVMSystem
    do {
      system = try KVMSystem()
    } catch {
      throw SetupFailure(message: "kvm: \(error); this command needs a usable /dev/kvm")
    }
    if compare {
      try runComparison(system: system)
    } else {
      try runChurn(system: system)
    }
  }

  private func runChurn(system: KVMSystem) throws {
    let limit: Int
    do {
      limit = try system.recommendedVCPUCount()
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
    let configuration = GuestChurnConfiguration(
      duration: .milliseconds(Int64((common.duration * 1000).rounded())),
      vcpus: vcpus ?? min(ProcessInfo.processInfo.activeProcessorCount, limit),
      hotplugThreads: hotplug, stableDevices: devices, churnDevices: churnDevices,
      kernelIOEventFD: kernelIOEventFD, seed: common.seed)
    let report: GuestChurnReport
    do {
      switch common.flavor {
      case .memb:
        report = try GuestChurn.run(
          system: system, flavor: MembRCU.self, configuration: configuration)
      case .bp:
        report = try GuestChurn.run(
          system: system, flavor: BulletproofRCU.self, configuration: configuration)
      case .broken:
        report = try GuestChurn.run(
          system: system, flavor: BrokenRCU.self, configuration: configuration)
      }
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
    print(
      """
      stress kvm: \(configuration.vcpus) vCPU(s), \(hotplug) hotplug thread(s), \
      \(devices) stable + \(churnDevices) churned eventfds, \
      kernel ioeventfd \(kernelIOEventFD ? "on" : "off"), flavor \(common.flavor.rawValue), \
      seed \(common.seed)
        rounds \(report.rounds) x \(report.roundIterations) iterations, \
      \(report.keys) (address, value) pairs, guest time \(String(format: "%.2f", report.guestSeconds)) s
        executed writes \(report.executedWrites) (\(format(report.writesPerSecond)) /s), \
      exits \(report.exits)
        drained signals \(report.drainedSignals), unclaimed writes \(report.unclaimedWrites), \
      absorbed in kernel \(report.kernelAbsorbedWrites)
        hotplug operations \(report.hotplugOperations)
      """)
    try writeJSON(ChurnJSON(command: "kvm", report: report))
    try finish(violations: report.violations.map { ($0.kind, $0.description) })
  }

  private func runComparison(system: KVMSystem) throws {
    let report: KVMComparison
    do {
      report = try common.flavor.run(
        KVMComparison.Measurement(
          system: system, iterations: iterations, repeats: repeats, devices: devices))
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
    print(report.text)
    try writeJSON(report)
    try finish(violations: report.violations)
  }

  private func writeJSON(_ value: some Encodable) throws {
    guard let path = common.json else { return }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try encoder.encode(value).write(to: URL(fileURLWithPath: path))
    } catch {
      throw SetupFailure(message: "cannot write \(path): \(error)")
    }
  }

  private func finish(violations: [(kind: String, text: String)]) throws {
    guard !violations.isEmpty else {
      print("  result: exact, no violations")
      return
    }
    var byKind: [String: [String]] = [:]
    for violation in violations { byKind[violation.kind, default: []].append(violation.text) }
    print("  result: \(violations.count) violation(s)")
    for (kind, texts) in byKind.sorted(by: { $0.key < $1.key }) {
      print("    \(kind): \(texts.count), first: ")
      for text in texts.prefix(5) { print("      \(text)") }
    }
    throw ExitStatus.violations
  }
}

/// The `--json` document of a churn run.
private struct ChurnJSON: Encodable {
  let command: String
  let report: GuestChurnReport
}

private func format(_ value: Double) -> String {
  String(format: "%.0f", value)
}
