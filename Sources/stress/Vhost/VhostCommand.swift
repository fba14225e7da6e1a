import ArgumentParser
import Foundation
import KVM
import StressKit

/// `stress vhost`: virtio-blk over vhost-user, real guests doing block I/O through kicks on
/// the bus while notifiers switch, against `qemu-storage-daemon`.
struct VhostCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vhost",
    abstract: "Guests do block I/O on a vhost-user back end while kick notifiers switch.",
    discussion: """
      Each vCPU runs generated code driving its own virtio-blk queue of a virtio-mmio \
      device served by qemu-storage-daemon (vhost-user-blk): it writes a seed-derived \
      pattern, reads it back, flushes, kicks through a notify address that is a value-matched \
      eventfd on the bus (mirrored into KVM_IOEVENTFD), and waits for the VMM's interrupt. \
      A hotplug thread switches kick eventfds (--switches-per-second); the guests stop, \
      restart and move their queues through device callbacks. Checks: every request \
      completes exactly once with the right status and data, none waits past --kick-bound-ms \
      after its kick (else: lost kick or lost call), no kick finds no notifier, and the \
      image equals the model. Needs /dev/kvm (exit 2 without it); without qemu-storage-daemon \
      (Debian: qemu-system-common) the run is inconclusive and says so.
      """
  )

  @OptionGroup var common: CommonOptions

  @Option(
    parsing: .unconditional,
    help: "Guest vCPUs, one queue each (default: min(2, KVM_CAP_NR_VCPUS)).")
  var vcpus: Int?

  @Option(
    parsing: .unconditional, help: "Kick switches per second by the hotplug thread (0: none).")
  var switchesPerSecond: Int = 200

  @Option(
    parsing: .unconditional,
    help: """
      How long a request may wait after its kick, in ms (a request past it that then \
      completes makes the run inconclusive: the machine was too slow to judge).
      """)
  var kickBoundMs: Int = 5000

  @Flag(
    name: .customLong("bus-only"),
    help: "Kicks on the bus alone (every kick exits), not mirrored into KVM_IOEVENTFD.")
  var busOnly = false

  @Option(
    parsing: .unconditional, help: "Operations (write, read, maybe flush) per vCPU per round.")
  var operationsPerRound: Int = 64

  @Option(
    parsing: .unconditional,
    help:
      "Each guest stops and restarts its queue every N operations, and moves its notify address half-way (0: never)."
  )
  var guestChurnEvery: Int = 16

  @Option(
    help:
      "A deliberate bug the checks must catch: \(VhostFault.allCases.map(\.rawValue).joined(separator: "|"))."
  )
  var fault: VhostFault = .none

  @Option(
    parsing: .unconditional,
    help: "The fault's rate, one in N (lose-call: call signals, default 50).")
  var faultEvery: Int?

  @Flag(
    help:
      "Measure requests/s and latency: kicks through the bus (mirrored) against a plain KVM ioeventfd by hand."
  )
  var compare = false

  @Option(parsing: .unconditional, help: "Alternating repeats of each path for --compare.")
  var repeats: Int = 5

  func vhostConfiguration(vcpus: Int) -> VhostConfiguration {
    VhostConfiguration(
      duration: .milliseconds(Int64(common.duration * 1000)), vcpus: vcpus,
      switchesPerSecond: switchesPerSecond, kickBound: .milliseconds(Int64(kickBoundMs)),
      kernelIOEventFD: !busOnly, flavor: common.flavor, seed: common.seed,
      operationsPerRound: operationsPerRound, guestChurnEvery: guestChurnEvery, fault: fault,
      faultEvery: faultEvery)
  }

  mutating func validate() throws {
    try validated { () throws(OptionError) in
      try vhostConfiguration(vcpus: vcpus ?? 1).validate()
      if common.minimumWorkWithin != 0 {
        throw OptionError(
          "--minimum-work-within: stress vhost runs for --duration exactly (its minimum of "
            + "work is fixed; a run short of it is inconclusive)")
      }
      if compare {
        if fault != .none { throw OptionError("--fault checks a run: --compare measures") }
        try RunLimits.check("--repeats", repeats, in: 1...100)
      }
    }
  }

  func run() throws {
    let json = try common.jsonDestination()
    let system: KVMSystem
    let limit: Int
    do {
      system = try KVMSystem()
      limit = try system.recommendedVCPUCount()
    } catch {
      throw SetupFailure(message: "vhost: \(error); this command needs a usable /dev/kvm")
    }
    let configuration = vhostConfiguration(vcpus: vcpus ?? min(2, limit))
    let header = ReportHeader(
      replay: configuration.replayArguments
        + (compare ? ["--compare", "--repeats", "\(repeats)"] : []))
    try deliverCheck(compare ? "vhost --compare" : "vhost", json: json, header: header) {
      () throws -> any CheckReport in
      compare
        ? try VhostComparison.run(system: system, configuration: configuration, repeats: repeats)
        : try VhostStress.run(system: system, configuration: configuration)
    }
  }
}

extension VhostFault: ExpressibleByArgument {}
