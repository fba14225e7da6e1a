import ConcurrentBus
import Foundation
import Histogram
import HostSupport
import KVM
import KVMGuests
import Synchronization
import VhostUser

/// One `stress vhost` run on one flavor and notifier: the device on the bus, its queues
/// started, the guests in rounds, the hotplug thread switching kicks, then the checks.
final class VhostRun<Flavor: RCUFlavor, Notifier: KickNotifier>: Sendable {
  let setup: VhostSetup<Flavor>
  let configuration: VhostConfiguration
  let device: VirtioBlockDevice<Notifier>
  let interrupts: BlockInterrupts
  let window: Registration
  let violations = Violations()
  let stopHotplug = StopFlag()
  let hotplugSwitches = Atomic<Int>(0)
  let hotplugSkipped = Atomic<Int>(0)
  let latencies = Mutex<Histogram<UInt64>>(
    Histogram(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three))

  init(setup: VhostSetup<Flavor>, notifier: Notifier) throws {
    self.setup = setup
    configuration = setup.configuration
    let layouts = setup.guest.layouts
    let interrupts = try BlockInterrupts(
      layouts: layouts, memory: setup.memory,
      dropEvery: configuration.fault == .loseCall ? configuration.faultRate : 0)
    self.interrupts = interrupts
    device = try VirtioBlockDevice(
      frontend: setup.frontend, notifier: notifier, memory: setup.memory,
      layouts: layouts.map(\.queue),
      notifyAddresses: layouts.indices.map { VhostSetup<Flavor>.notifyAddresses(queue: $0)[0] },
      allowsNotify: { queue, address in
        VhostSetup<Flavor>.notifyAddresses(queue: queue).contains(address)
      },
      interrupt: { queue, result, used in interrupts.deliver(queue: queue, result, usedIndex: used)
      })
    window = try setup.mmioBus.register(
      device, base: VhostSetup<Flavor>.windowBase, length: VirtioMMIO.windowSize)
  }

  func run() throws -> VhostReport {
    defer {
      device.close()
      // The bus holds the device, whose notifier holds the bus: unregistering breaks the
      // cycle (AddressSanitizer's leak check found it).
      try? setup.mmioBus.unregister(window)
    }
    for queue in device.queues.indices {
      do {
        try device.start(queue: queue)
      } catch {
        guard setup.daemon.isRunning else {
          throw VhostBackendLost(reason: "qemu-storage-daemon died: \(setup.daemon.lastWords)")
        }
        throw SetupFailure(message: "vhost: cannot start queue \(queue): \(error)")
      }
    }
    let notify = Set(
      (0..<configuration.vcpus).flatMap { VhostSetup<Flavor>.notifyAddresses(queue: $0) })
    let handlers = (0..<configuration.vcpus).map { _ in
      VhostExitHandler(
        portBus: setup.portBus, mmioBus: setup.mmioBus, window: window.id, notifyAddresses: notify,
        interrupts: interrupts, idlePort: UInt16(setup.guest.programs[0].idlePort))
    }
    let hotplug =
      configuration.switchesPerSecond > 0
      ? try startThreads(1, named: "kick switch") { _ in self.switchKicks() } : []
    violations.startClock()
    let rounds = runRounds(handlers)
    stopHotplug.set()
    for thread in hotplug { thread.join() }
    return finish(rounds: rounds, handlers: handlers)
  }

  /// What the rounds did.
  struct Rounds {
    var count = 0
    var guestTime = Duration.zero
    var stalled: [StalledRequest] = []
    var failure: String?
  }

  /// Guest rounds until the duration has passed, a violation was found, or a request
  /// stalled; each round's completions and latencies are checked after it.
  private func runRounds(_ handlers: [VhostExitHandler<Flavor>]) -> Rounds {
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = Rounds()
    while rounds.count == 0 || (clock.now - start < configuration.duration && !violations.any) {
      let roundStart = clock.now
      do {
        _ = try setup.guest.run(handlers: handlers)
      } catch {
        rounds.failure = "guest run failed: \(error)"
        break
      }
      rounds.guestTime += clock.now - roundStart
      rounds.count += 1
      collectLatencies()
      let stalled = resolveStalls()
      if !stalled.isEmpty {
        rounds.stalled = stalled
        break
      }
    }
    return rounds
  }

  /// The hotplug thread: switches a random running queue's kick, at the configured rate.
  private func switchKicks() {
    var random = SplitMix64(seed: configuration.seed &+ 0x5EED)
    let interval = 1.0 / Double(configuration.switchesPerSecond)
    let clock = ContinuousClock()
    var next = clock.now
    while !stopHotplug.isSet {
      let queue = device.queues[Int(random.next() % UInt64(device.queues.count))]
      do throws(VirtioQueueError) {
        try switchKick(queue)
        hotplugSwitches.add(1, ordering: .relaxed)
      } catch {
        if case .state = error {
          hotplugSkipped.add(1, ordering: .relaxed)  // the guest has its queue stopped
        } else if setup.daemon.isRunning {
          violations.record(.vhostProtocol, "kick switch on queue \(queue.index): \(error)")
        }
      }
      next = next + .nanoseconds(Int64(interval * 1e9))
      let now = clock.now
      if next > now { usleep(UInt32((next - now).seconds * 1e6)) } else { next = now }
    }
  }

  /// One kick switch, the way QEMU does it, or with the configured fault's order.
  private func switchKick(_ queue: VirtioQueue<Notifier>) throws(VirtioQueueError) {
    switch configuration.fault {
    case .dropKick:
      try queue.withKickSwitch { (context) throws(VirtioQueueError) in
        guard context.kick != nil else { throw .state("stopped") }
        let new = try context.makeEventFD()
        try context.setBackendKick(new)
        try context.rebind(to: new) {}  // the old eventfd is never read: its kicks are lost
      }
    case .unregisterBeforeSwitch:
      try queue.withKickSwitch { (context) throws(VirtioQueueError) in
        guard let old = context.kick else { throw .state("stopped") }
        let new = try context.makeEventFD()
        try context.unbind {}
        try context.setBackendKick(new)
        try context.bind(new)
        queue.renotify(from: old)
      }
    case .none, .loseCall:
      try queue.switchKick()
    }
  }

  /// Adds this round's guest-measured latencies to the histogram.
  private func collectLatencies() {
    for layout in setup.guest.layouts {
      guard let count = try? setup.guest.load(layout.latencyCount) else { continue }
      let values = (0..<min(Int(count), BlockGuestLayout.latencySlots)).compactMap {
        try? setup.guest.load(layout.latencies + 4 * UInt64($0))
      }
      latencies.withAnnotatedLock(owner: self) { histogram in
        for value in values {
          histogram.record(min(setup.nanoseconds(units: value), 60_000_000_000))
        }
      }
    }
  }
}
