import ConcurrentBus
import Foundation
import HostSupport
import KVM
import KVMGuests
import RCU
import Synchronization

/// Real guests plus hotplug churn with exact accounting: for every (address, value) the
/// guests wrote, drained eventfd counts + unclaimed writes == writes executed; and the
/// engine's removal checks on every unregister (stale sections, late signals). With
/// `coalesced`, every vCPU also writes sequenced values to coalesced ranges whose
/// registrations move in and out of the kernel (``GuestCoalescing``), and every value must
/// be delivered once, in its writer's order.
public enum GuestChurn {
  /// Runs guests in rounds until `configuration.duration` has passed (or a violation is
  /// found) while hotplug threads churn, then checks the accounting.
  ///
  /// - Throws: ``OptionError`` for a configuration out of range (including more vCPUs
  ///   than KVM recommends), ``SetupFailure`` when KVM or the host refuses something.
  ///   Violations are in the report.
  public static func run(system: KVMSystem, configuration: GuestChurnConfiguration) throws
    -> GuestChurnReport
  {
    try configuration.validate()
    let limit: Int
    let hasIOEventFD: Bool
    let coalescing: Bool
    do {
      limit = try system.recommendedVCPUCount()
      hasIOEventFD = try system.supportsIOEventFD()
      coalescing =
        try system.coalescedRingPageOffset() != nil && system.supportsCoalescedPIO()
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
    try RunLimits.check(
      "--vcpus", configuration.vcpus, in: 1...limit, why: "KVM_CAP_NR_VCPUS here")
    if configuration.kernelIOEventFD && !hasIOEventFD {
      throw SetupFailure(message: "kvm: KVM_CAP_IOEVENTFD is missing")
    }
    if configuration.coalesced && !coalescing {
      throw SetupFailure(
        message: "kvm: --coalesced needs KVM_CAP_COALESCED_MMIO and KVM_CAP_COALESCED_PIO")
    }
    return try configuration.flavor.run(
      GuestChurnWork(system: system, configuration: configuration))
  }
}

/// A guest churn run, generic over the flavor ``FlavorChoice/run(_:)`` picks.
private struct GuestChurnWork: FlavorGenericWork {
  let system: KVMSystem
  let configuration: GuestChurnConfiguration

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> GuestChurnReport {
    do {
      return try GuestChurnRun<Flavor>(system: system, configuration: configuration).run()
    } catch let error as SetupFailure {
      throw error
    } catch {
      throw SetupFailure(message: "kvm: \(error)")
    }
  }
}

/// One guest churn run on one flavor.
final class GuestChurnRun<Flavor: RCUFlavor>: Sendable {
  let configuration: GuestChurnConfiguration
  let violations = Violations()
  let guest: GuestRun
  let program: GuestProgram
  let stableKeys: [GuestWrite]
  let registrar: Registrar<Flavor>
  let ledger: EventLedger<GuestWrite>
  let sections: SectionEpochs
  let hotplug: Hotplug<GuestChurnTarget<Flavor>>
  let drained = Mutex<[GuestWrite: Int]>([:])
  let stopHotplug = StopFlag()
  /// The coalesced ranges, with `--coalesced`.
  let coalescing: GuestCoalescing<Flavor>?

  init(system: KVMSystem, configuration: GuestChurnConfiguration) throws {
    self.configuration = configuration
    let registered = configuration.stableDevices + configuration.churnDevices
    let sequenced =
      configuration.coalesced
      ? CoalescedLayout(churned: configuration.coalescedRanges).sequencedWrites : []
    let iterations =
      try configuration.roundIterations
      ?? GuestChurn.calibrate(
        system: system, configuration: configuration, registeredKeys: registered,
        sequencedWrites: sequenced)
    let program = GuestChurn.program(iterations: iterations, registeredKeys: registered)
    self.program = program
    guest = try GuestRun(
      system: system,
      programs: (0..<configuration.vcpus).map { vcpu in
        var program = program
        program.writer = UInt8(vcpu)
        program.sequencedWrites = sequenced
        return program
      })
    var keys = Array(program.expectedWrites().keys).sorted { $0.description < $1.description }
    var random = SplitMix64(seed: configuration.seed)
    keys.shuffle(using: &random)
    stableKeys = Array(keys.prefix(configuration.stableDevices))
    let churnKeys = Array(
      keys.dropFirst(configuration.stableDevices).prefix(configuration.churnDevices))

    let portBus = IOBus(flavor: Flavor.self, space: .portIO)
    let mmioBus = IOBus(flavor: Flavor.self)
    registrar = Registrar(
      mirror: configuration.kernelIOEventFD
        ? KernelIOEventFDMirror(vm: guest.vm, portBus: portBus, mmioBus: mmioBus) : nil,
      portBus: portBus, mmioBus: mmioBus)
    ledger = try EventLedger(consumers: 1, violations: violations)
    sections = SectionEpochs(
      vcpus: configuration.vcpus
        + (configuration.coalesced ? GuestCoalescing<Flavor>.sectionSlots(configuration) : 0))
    coalescing =
      configuration.coalesced
      ? try GuestCoalescing(
        configuration: configuration, guest: guest, portBus: portBus, mmioBus: mmioBus,
        sections: sections, firstSection: configuration.vcpus, violations: violations) : nil
    hotplug = Hotplug(
      target: GuestChurnTarget(registrar: registrar, keys: churnKeys, ledger: ledger),
      threads: configuration.hotplugThreads, sections: sections, violations: violations,
      seed: configuration.seed &+ 0x9E37_79B9,
      skipEvery: configuration.fault == .skipGracePeriod ? configuration.faultRate : 0)
  }

  func run() throws -> GuestChurnReport {
    let target = hotplug.target
    let stable = try stableKeys.enumerated().map { slot, key in
      try target.plug(key, slot: slot, churned: false)
    }
    try coalescing?.registerStable()
    let handlers = (0..<configuration.vcpus).map { vcpu in
      CheckedExitHandler(
        buses: BusExitHandler(portBus: registrar.portBus, mmioBus: registrar.mmioBus),
        sections: sections, vcpu: vcpu, seed: configuration.seed, coalesced: coalescing?.checks,
        ownDrain: coalescing?.ownDrain, hold: coalescing?.hold)
    }
    try ledger.startConsumers()
    let epochs = sections
    let watchdog = try StallWatchdog(
      timeout: configuration.stallTimeout, violations: violations,
      census: { epochs.census() })
    defer { watchdog.stop() }
    let hotplugThreads =
      try hotplug.start(until: stopHotplug, watchdog: watchdog)
      + (coalescing?.hotplug.start(until: stopHotplug, watchdog: watchdog) ?? [])
    let settler = try startThreads(1, named: "settler") { _ in self.settle() }
    violations.startClock()
    let rounds = runRounds(handlers)

    stopHotplug.set()
    // A stalled run left threads behind that may hold a writer lock or a section: the
    // final unregisters and reconciliation, which wait for them, are skipped.
    guard watchdog.join([("hotplug", hotplugThreads), ("settler", settler)]) else {
      return report(
        rounds: rounds, unclaimed: mergedUnclaimedWrites(handlers.map(\.buses)), coalesced: nil,
        stall: watchdog.summary)
    }
    for plug in stable {
      do {
        try registrar.unregister(plug.token, wait: .synchronous)
        ledger.retire(plug.record)
      } catch {
        violations.record(.hotplugFailure, "stable unregister: \(error)")
      }
    }
    coalescing?.unregisterStable()
    ledger.stopConsumers()
    guard watchdog.bounded(.barrier, thread: "main (final barrier)", { Flavor.barrier() }) else {
      return report(
        rounds: rounds, unclaimed: mergedUnclaimedWrites(handlers.map(\.buses)), coalesced: nil,
        stall: watchdog.summary)
    }
    fold(ledger.settle(settledFor: 0))
    fold(ledger.drainAll())
    checkReleased()
    if case .failure(let error) = rounds.result {
      throw SetupFailure(message: "kvm: guest run failed: \(error)")
    }
    return report(
      rounds: rounds, unclaimed: mergedUnclaimedWrites(handlers.map(\.buses)),
      coalesced: try coalescing?.finish(guest: guest), stall: watchdog.summary)
  }

  /// What the guest rounds did.
  struct Rounds {
    var count = 0
    var exits = 0
    var guestTime = Duration.zero
    var result: Result<Void, KVMError> = .success(())
  }

  /// Guest rounds until the duration has passed or a violation was found; between
  /// rounds, the reads are checked.
  private func runRounds(_ handlers: [CheckedExitHandler<Flavor>]) -> Rounds {
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = Rounds()
    while rounds.count == 0
      || (clock.now - start < configuration.duration && !violations.any)
    {
      do {
        let roundStart = clock.now
        let statistics = try guest.run(handlers: handlers)
        rounds.guestTime += clock.now - roundStart
        rounds.count += 1
        for vcpu in statistics { rounds.exits += vcpu.exits }
        coalescing?.checkRound(handlers, statistics)
      } catch {
        rounds.result = .failure(error)
        break
      }
      GuestChurn.checkReads(guest: guest, program: program, violations: violations)
    }
    return rounds
  }

  /// Settles retired eventfds while the guests run (a round can take a while, and the
  /// hotplug threads retire thousands of eventfds a second), so the run holds a bounded
  /// number of descriptors.
  private func settle() {
    while !stopHotplug.isSet {
      usleep(10_000)
      fold(ledger.settle(settledFor: 200_000_000))
    }
  }

  /// Adds settled records' signals to their pair's total (the bus must let go of their
  /// eventfds by the final barrier: see `checkReleased`).
  private func fold(_ records: [EventRecord<GuestWrite>]) {
    drained.withAnnotatedLock(owner: self) { totals in
      for record in records { totals[record.key, default: 0] += Int(record.drained) }
    }
    for record in records { _ = ledger.releasedByBus(record) }
  }

  /// After the final barrier, every deferred reclamation has run: the bus must hold none
  /// of the eventfds any more.
  private func checkReleased() {
    for record in ledger.takeAwaitingRelease() where record.busDevice != nil {
      violations.record(
        .reclamation,
        "the bus still holds the eventfd of \(record.registration.id) after its unregister and a final barrier"
      )
    }
  }
}
