import CHostSupport
import ConcurrentBus
import Foundation
import KVM
import KVMGuests
import VhostUser

/// What every vhost run sets up before its notifier is chosen: the block guests, the buses,
/// the back end's connection with the guests' memory table, and the time-stamp rate.
struct VhostSetup<Flavor: RCUFlavor>: Sendable {
  /// The register window of the virtio-mmio device.
  static var windowBase: UInt64 { 0xD000_0000 }
  /// Where queue `q`'s moved notify addresses lie: `notifyRegion + q * 0x1000 + k * 0x10`.
  static var notifyRegion: UInt64 { 0xD010_0000 }

  let configuration: VhostConfiguration
  let daemon: StorageDaemon
  let guest: BlockGuestRun
  let portBus: IOBus<Flavor>
  let mmioBus: IOBus<Flavor>
  let frontend: VhostUserFrontend
  let memory: GuestMemoryWindow
  /// Time-stamp counter ticks per second.
  let timestampRate: Double

  init(system: KVMSystem, configuration: VhostConfiguration, daemon: StorageDaemon) throws {
    self.configuration = configuration
    self.daemon = daemon
    timestampRate = Self.measureTimestampRate()
    let units = configuration.kickBound.seconds * timestampRate / 16
    let programs = (0..<configuration.vcpus).map { vcpu in
      BlockGuestProgram(
        vcpu: vcpu, queue: vcpu, seed: configuration.seed,
        operationsPerRound: configuration.operationsPerRound,
        churnEvery: configuration.guestChurnEvery, windowBase: Self.windowBase,
        notifyAddresses: Self.notifyAddresses(queue: vcpu),
        timeoutUnits: UInt32(min(units, Double(UInt32.max / 2))))
    }
    guest = try BlockGuestRun(system: system, programs: programs)
    portBus = IOBus(flavor: Flavor.self, space: .portIO)
    mmioBus = IOBus(flavor: Flavor.self)
    do {
      frontend = try VhostUserFrontend(
        path: daemon.socketPath, offering: VhostUserFeature.blockFlush)
    } catch {
      throw VhostBackendLost(reason: "cannot connect to qemu-storage-daemon: \(error)")
    }
    guard frontend.queueCount >= configuration.vcpus else {
      throw SetupFailure(
        message:
          "vhost: qemu-storage-daemon offers \(frontend.queueCount) queue(s) for \(configuration.vcpus) vCPUs"
      )
    }
    let ram = guest.memory
    memory = GuestMemoryWindow(
      guestPhysicalAddress: ram.guestPhysicalAddress, size: UInt64(ram.size), base: ram.pointer)
    try frontend.setMemoryTable([
      VhostUserMemoryRegion(
        guestPhysicalAddress: ram.guestPhysicalAddress, size: UInt64(ram.size),
        userspaceAddress: UInt64(UInt(bitPattern: ram.pointer)), fileDescriptor: ram.fileDescriptor!
      )
    ])
  }

  /// The image: every vCPU's region.
  static func imageSize(_ configuration: VhostConfiguration) -> Int {
    configuration.vcpus * 64 * 4096
  }

  /// Queue `queue`'s four notify addresses: the window's QueueNotify first.
  static func notifyAddresses(queue: Int) -> [UInt64] {
    [windowBase + VirtioMMIO.queueNotify]
      + (1...3).map { notifyRegion + UInt64(queue) * 0x1000 + UInt64($0) * 0x10 }
  }

  /// The time-stamp counter's rate, over 50 ms of wall time.
  static func measureTimestampRate() -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    let first = chost_timestamp_counter()
    usleep(50_000)
    let last = chost_timestamp_counter()
    let elapsed = (clock.now - start).seconds
    return elapsed > 0 && last > first ? Double(last - first) / elapsed : 1e9
  }

  /// Nanoseconds of `units` time-stamp counter / 16.
  func nanoseconds(units: UInt32) -> UInt64 {
    UInt64(Double(units) * 16 / timestampRate * 1e9)
  }
}
