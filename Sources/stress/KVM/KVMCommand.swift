import ArgumentParser
import Benchmarks
import Foundation
import KVM
import StressKit

/// `stress kvm`: the churn accounting with real guest vCPUs under KVM, or (`--compare`)
/// guest write rates along the exit paths.
struct KVMCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kvm",
    abstract: "Real KVM guests write while hotplug threads churn eventfd registrations.",
    discussion: """
      For every (address, value) the guests wrote, drained eventfd counts plus unclaimed \
      writes seen by the run loop must equal the writes executed, exactly. With \
      --coalesced, each vCPU also writes sequenced values to coalesced MMIO and port ranges \
      whose registrations move in and out of the kernel (KVM_REGISTER_COALESCED_MMIO) and \
      on and off the bus: every value must be delivered exactly once, in its vCPU's order, \
      never to a device after its unregister returned. Guests run in rounds of a fixed \
      iteration count until --duration passes. Needs /dev/kvm (exit 2 without it).

      Bounds: the run ends within --duration plus max(2 s, 10%), loaded or not: a round \
      (calibrated to about 0.2 s with every vCPU running) starts only if it fits; at most \
      32 threads per core in all (vCPUs, hotplug threads twice with --coalesced, two more). \
      Descriptors: one eventfd per stable and churned pair, at most 1024 retired ones \
      awaiting reconciliation, one KVM descriptor per vCPU. Memory: a few pages of guest \
      code and data per vCPU, and fixed tables.
      """
  )

  @OptionGroup var common: CommonOptions
  @OptionGroup var stall: StallOptions

  @Option(
    parsing: .unconditional, help: "Guest vCPUs (default: min(cores, KVM_CAP_NR_VCPUS)).")
  var vcpus: Int?

  @Option(parsing: .unconditional, help: "Hotplug threads churning eventfd registrations.")
  var hotplug: Int = 1

  @Option(parsing: .unconditional, help: "Eventfd registrations that stay for the whole run.")
  var devices: Int = 16

  @Option(
    parsing: .unconditional,
    help: "Written (address, value) pairs whose eventfd registration comes and goes.")
  var churnDevices: Int = 16

  @Flag(
    name: .customLong("kernel-ioeventfd"),
    help: "Mirror eventfd registrations into KVM_IOEVENTFD, as QEMU does.")
  var kernelIOEventFD = false

  @Flag(
    help: """
      Add sequenced guest writes to coalesced ranges (2 stable, --coalesced-ranges churned).
      """)
  var coalesced = false

  @Option(
    parsing: .unconditional, help: "Coalesced ranges whose registrations come and go.")
  var coalescedRanges: Int = 6

  @Option(
    help: """
      A deliberate bug the checks must catch: \
      \(GuestFault.allCases.map(\.rawValue).joined(separator: "|")).
      """)
  var fault: GuestFault = .none

  @Option(
    parsing: .unconditional,
    help: """
      The fault's rate, one in N (ring entries per vCPU for the ring faults, default 100; \
      removals per hotplug thread, coalesced unregisters or exits otherwise, default 1).
      """)
  var faultEvery: Int?

  @Flag(
    help: """
      Measure guest writes per second: bare exit, bus dispatch (on --flavor), kernel \
      ioeventfd; then coalesced writes against exits and kernel ioeventfds.
      """)
  var compare = false

  @Option(parsing: .unconditional, help: "Alternating repeats of each path for --compare.")
  var repeats: Int = 5

  @Option(parsing: .unconditional, help: "Guest writes per measured run for --compare.")
  var iterations: Int = 100_000

  /// The churn configuration, with `vcpus` as given or as defaulted once KVM is open.
  func churnConfiguration(vcpus: Int) -> GuestChurnConfiguration {
    var configuration = GuestChurnConfiguration(
      duration: .seconds(common.duration), vcpus: vcpus, hotplugThreads: hotplug,
      stableDevices: devices, churnDevices: churnDevices, kernelIOEventFD: kernelIOEventFD,
      flavor: common.flavor, seed: common.seed, coalesced: coalesced,
      coalescedRanges: coalescedRanges, fault: fault, faultEvery: faultEvery)
    configuration.minimumWorkWithin = .seconds(common.minimumWorkWithin)
    configuration.stallTimeout = stall.timeout
    return configuration
  }

  mutating func validate() throws {
    if compare {
      try validated { () throws(OptionError) in
        if coalesced || fault != .none {
          throw OptionError(
            "--coalesced and --fault check a churn run: --compare measures coalesced writes itself")
        }
        try RunLimits.check("--repeats", repeats, in: 1...1000)
        try RunLimits.check("--iterations", iterations, in: 1...100_000_000)
        try RunLimits.check(
          "--devices", devices, in: 0...GuestChurnConfiguration.maximumRegisteredPairs)
      }
    } else {
      try validated { () throws(OptionError) in
        try churnConfiguration(vcpus: vcpus ?? 1).validate()
      }
    }
  }

  func run() throws {
    let json = try common.jsonDestination()
    let header = ReportHeader(replay: replayArguments)
    let system: KVMSystem
    do {
      system = try KVMSystem()
    } catch {
      throw SetupFailure(message: "kvm: \(error); this command needs a usable /dev/kvm")
    }
    try deliverCheck(compare ? "kvm --compare" : "kvm", json: json, header: header) {
      () throws -> any CheckReport in
      compare ? try runComparison(system: system) : try runChurn(system: system)
    }
  }

  /// The arguments after `stress` that repeat this run (`--vcpus` as defaulted here
  /// included, once known).
  private var replayArguments: [String] {
    if compare {
      return ["kvm", "--compare", "--repeats", "\(repeats)", "--iterations", "\(iterations)"]
        + ["--devices", "\(devices)"] + common.flavor.replayArguments
    }
    let limit = (try? KVMSystem().recommendedVCPUCount()) ?? RunLimits.cores
    return churnConfiguration(vcpus: vcpus ?? min(RunLimits.cores, limit)).replayArguments
  }

  private func runChurn(system: KVMSystem) throws -> GuestChurnReport {
    let limit: Int
    do {
      limit = try system.recommendedVCPUCount()
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
    return try GuestChurn.run(
      system: system,
      configuration: churnConfiguration(vcpus: vcpus ?? min(RunLimits.cores, limit)))
  }

  private func runComparison(system: KVMSystem) throws -> ExitPathReport {
    let report: KVMComparison
    do {
      report = try common.flavor.run(
        KVMComparison.Measurement(
          system: system, iterations: iterations, repeats: repeats, devices: devices))
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
    print(report.text)
    return ExitPathReport(comparison: report)
  }
}

/// The report of `--compare`: the measured rates, with the count checks' verdict.
private struct ExitPathReport: CheckReport {
  let command = "kvm --compare"
  let comparison: KVMComparison
  let work: [WorkMeasure]
  let violations: [ViolationSummary]
  /// A measurement never runs short: there is no minimum of work to miss.
  let shortfalls: [Shortfall] = []

  init(comparison: KVMComparison) {
    self.comparison = comparison
    work = []
    violations = [
      (ViolationKind.exitPathCount, comparison.comparison.violations),
      (ViolationKind.coalescedSequence, comparison.coalesced.violations),
    ].compactMap { kind, found in
      found.isEmpty
        ? nil : ViolationSummary(kind: kind, count: found.count, examples: Array(found.prefix(5)))
    }
  }

  /// The comparison's lines are printed as it finishes; this is the verdict.
  var text: String { outcome.lines.joined(separator: "\n") }
}

extension GuestFault: ExpressibleByArgument {}

extension ViolationKind {
  /// `kvm --compare`: a measured path did not see exactly the writes the guest made.
  static let exitPathCount = ViolationKind("exit-path-count")
  /// `kvm --compare`: a coalesced write was lost, repeated or delivered out of order.
  static let coalescedSequence = ViolationKind("coalesced-sequence")
}
