import Foundation
import KVM
import RCU
import VhostUser

/// `stress vhost`: virtio-blk over vhost-user with `qemu-storage-daemon`, real guests doing
/// block I/O through kicks on the bus while notifiers switch.
public enum VhostStress {
  /// Runs the configuration.
  ///
  /// - Throws: ``OptionError`` for options out of range, ``SetupFailure`` when KVM refuses
  ///   something. A missing or dying back end is not an error: the report is inconclusive
  ///   and says why. Violations are in the report.
  public static func run(system: KVMSystem, configuration: VhostConfiguration) throws
    -> VhostReport
  {
    try run(
      system: system, configuration: configuration,
      path: configuration.kernelIOEventFD ? .busMirrored : .busOnly)
  }

  /// Runs the configuration with kicks taking `path`.
  static func run(system: KVMSystem, configuration: VhostConfiguration, path: KickPath) throws
    -> VhostReport
  {
    try configuration.validate()
    let limit: Int
    do {
      limit = try system.recommendedVCPUCount()
      if configuration.kernelIOEventFD, try !system.supportsIOEventFD() {
        throw SetupFailure(message: "vhost: KVM_CAP_IOEVENTFD is missing")
      }
    } catch let error as SetupFailure {
      throw error
    } catch {
      throw SetupFailure(message: "vhost: \(error)")
    }
    try RunLimits.check(
      "--vcpus", configuration.vcpus, in: 1...limit, why: "KVM_CAP_NR_VCPUS here")
    let daemon: StorageDaemon
    do {
      daemon = try StorageDaemon(
        imageSize: VhostSetup<MembRCU>.imageSize(configuration),
        queues: configuration.vcpus)
    } catch {
      return VhostReport(configuration: configuration, backendUnavailable: "\(error)")
    }
    defer { daemon.stop() }
    return try configuration.flavor.run(
      VhostWork(system: system, configuration: configuration, daemon: daemon, path: path))
  }
}

/// A vhost run, generic over the flavor ``FlavorChoice/run(_:)`` picks and the notifier
/// the configuration asks for.
private struct VhostWork: FlavorGenericWork {
  let system: KVMSystem
  let configuration: VhostConfiguration
  let daemon: StorageDaemon
  let path: KickPath

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> VhostReport {
    do {
      let setup = try VhostSetup<Flavor>(
        system: system, configuration: configuration, daemon: daemon)
      switch path {
      case .busMirrored, .kernelByHand:
        return try VhostRun(
          setup: setup,
          notifier: KernelKickNotifier(
            vm: setup.guest.vm, bus: setup.mmioBus, withBus: path == .busMirrored)
        ).run()
      case .busOnly:
        return try VhostRun(setup: setup, notifier: BusKickNotifier(bus: setup.mmioBus)).run()
      }
    } catch let error as SetupFailure {
      throw error
    } catch let error as VhostBackendLost {
      return VhostReport(configuration: configuration, backendUnavailable: error.reason)
    } catch {
      throw SetupFailure(message: "vhost: \(error)")
    }
  }
}

/// How guest kicks reach the kick eventfd.
enum KickPath: String, Sendable, Codable, CaseIterable {
  /// A notifier on the bus, mirrored into KVM_IOEVENTFD (the kernel absorbs kicks; the bus
  /// serves those that exit while the kernel binding switches).
  case busMirrored = "bus (mirrored into KVM_IOEVENTFD)"
  /// The eventfd assigned as a plain KVM ioeventfd by hand, no bus.
  case kernelByHand = "plain KVM ioeventfd by hand"
  /// A notifier on the bus alone: every kick exits.
  case busOnly = "bus alone (every kick exits)"
}

/// The back end went away during setup: the run cannot judge anything.
struct VhostBackendLost: Error {
  let reason: String
}
