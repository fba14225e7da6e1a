import HostSupport
import ConcurrentBus
import KVM
import RCU
import Synchronization

/// What `GuestChurn.run` does: real guest vCPUs writing while hotplug threads churn
/// ioeventfd registrations on the (address, value) pairs the guests write.
public struct GuestChurnConfiguration: Sendable, Hashable, Codable {
  /// Keep starting guest rounds until this much time has passed.
  public var duration: Duration
  /// Guest vCPUs, each running the same program on its own thread.
  public var vcpus: Int
  /// Threads that register and unregister the churned eventfds.
  public var hotplugThreads: Int
  /// Eventfd registrations that stay on the bus for the whole run.
  public var stableDevices: Int
  /// Written (address, value) pairs whose eventfd registration comes and goes.
  public var churnDevices: Int
  /// Mirror every eventfd registration into KVM_IOEVENTFD.
  public var kernelIOEventFD: Bool
  /// Seeds the choice of which pairs are stable, churned, or never registered, and the
  /// hotplug threads' choices.
  public var seed: UInt64
  /// Loop iterations of one guest round; nil to calibrate (about 0.2 s per round).
  public var roundIterations: Int?

  /// A configuration; see the properties.
  public init(
    duration: Duration, vcpus: Int, hotplugThreads: Int = 1, stableDevices: Int = 16,
    churnDevices: Int = 16, kernelIOEventFD: Bool = false, seed: UInt64 = 1,
    roundIterations: Int? = nil
  ) {
    self.duration = duration
    self.vcpus = vcpus
    self.hotplugThreads = hotplugThreads
    self.stableDevices = stableDevices
    self.churnDevices = churnDevices
    self.kernelIOEventFD = kernelIOEventFD
    self.seed = seed
    self.roundIterations = roundIterations
  }
}

/// One accounting failure found by `GuestChurn.run`.
public struct GuestChurnViolation: Sendable, Hashable, Codable, CustomStringConvertible {
  /// `count` (drained + unclaimed != executed), `stableUnclaimed` (a write to a
  /// registration that never left the bus went unclaimed), `readValue` (an unclaimed read
  /// did not reach the guest as all ones), `failedSignals`, `hotplug` (a register or
  /// unregister failed), `kernelPathUnused` (with the mirror, no write stayed in the
  /// kernel).
  public var kind: String
  /// The (space, address, size, value) concerned, or other context.
  public var key: String
  /// Writes the guests executed to `key`.
  public var executed: Int
  /// Signals drained from the eventfds of `key`.
  public var drained: Int
  /// Writes to `key` the run loop saw unclaimed.
  public var unclaimed: Int

  /// For example `count pio 0x1000/1 = 0x11: executed 10 drained 4 unclaimed 5`.
  public var description: String {
    "\(kind) \(key): executed \(executed) drained \(drained) unclaimed \(unclaimed)"
  }
}

/// The outcome of `GuestChurn.run`.
public struct GuestChurnReport: Sendable, Hashable, Codable {
  /// The configuration run.
  public var configuration: GuestChurnConfiguration
  /// Guest rounds run (each vCPU ran its program once per round).
  public var rounds: Int
  /// Loop iterations of the program per round.
  public var roundIterations: Int
  /// Distinct (space, address, size, value) pairs the program writes.
  public var keys: Int
  /// Guest writes executed, summed over vCPUs and rounds.
  public var executedWrites: Int
  /// Eventfd signals drained (by the poller thread and the final drain).
  public var drainedSignals: Int
  /// Writes the run loop saw unclaimed.
  public var unclaimedWrites: Int
  /// Writes that never exited: absorbed by KVM_IOEVENTFD in the kernel.
  public var kernelAbsorbedWrites: Int
  /// KVM_RUN exits, summed over vCPUs and rounds.
  public var exits: Int
  /// Successful registrations plus unregistrations by the hotplug threads.
  public var hotplugOperations: Int
  /// Time spent running guest rounds, in seconds.
  public var guestSeconds: Double
  /// Every violation found (empty when the accounting was exact).
  public var violations: [GuestChurnViolation]

  /// Guest writes per second of guest time.
  public var writesPerSecond: Double {
    guestSeconds > 0 ? Double(executedWrites) / guestSeconds : 0
  }
}

/// A setup failure of `GuestChurn.run` (nothing was checked).
public struct GuestChurnSetupError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String
}

/// Real guests plus hotplug churn with exact accounting: for every (address, value) the
/// guests wrote, drained eventfd counts + unclaimed writes == writes executed.
public enum GuestChurn {
  /// The first port the program writes; each write access gets its own port or address.
  public static let portBase: UInt64 = 0x1000
  /// The first MMIO address the program writes.
  public static let mmioBase: UInt64 = 0xD000_0000
  /// Values per write access.
  static let valuesPerAccess = 8

  /// The program every vCPU runs: write accesses cycling PIO sizes 1/2/4 and MMIO sizes
  /// 1/2/4/8, eight values each, enough for `registeredKeys` registrations plus at least
  /// eight never-registered pairs; and one unclaimed port read and MMIO read.
  public static func program(iterations: Int, registeredKeys: Int) -> GuestProgram {
    let shapes: [(GuestAddressSpace, Int)] = [
      (.pio, 1), (.pio, 2), (.pio, 4), (.mmio, 1), (.mmio, 2), (.mmio, 4), (.mmio, 8),
    ]
    let needed = (registeredKeys + valuesPerAccess) / valuesPerAccess + 1
    let count = max(shapes.count, needed)
    var accesses: [GuestProgram.Access] = []
    for index in 0..<count {
      let (space, size) = shapes[index % shapes.count]
      let mask: UInt64 = size == 8 ? .max : (1 << (8 * UInt64(size))) - 1
      let values = (0..<valuesPerAccess).map {
        (UInt64($0 + 1) &* 0x0101_0101_0101_0101 &+ UInt64(index) << 4) & mask
      }
      switch space {
      case .pio:
        accesses.append(
          .portWrite(port: UInt16(portBase) + UInt16(index * 8), size: size, values: values))
      case .mmio:
        accesses.append(
          .mmioWrite(address: mmioBase + UInt64(index) * 0x100, size: size, values: values))
      }
    }
    accesses.append(.portRead(port: 0x2000, size: 4))
    accesses.append(.mmioRead(address: 0xD800_0000, size: 8))
    return GuestProgram(iterations: iterations, accesses: accesses)
  }

  /// Runs guests in rounds until `configuration.duration` has passed while hotplug
  /// threads churn, then checks the accounting.
  ///
  /// Throws only for setup failures; accounting failures are in the report.
  public static func run<Flavor: RCUFlavor>(
    system: KVMSystem, flavor: Flavor.Type, configuration: GuestChurnConfiguration
  ) throws(GuestChurnSetupError) -> GuestChurnReport {
    do {
      return try runChecked(system: system, flavor: flavor, configuration: configuration)
    } catch let error as GuestChurnSetupError {
      throw error
    } catch {
      throw GuestChurnSetupError(description: "\(error)")
    }
  }

  private static func runChecked<Flavor: RCUFlavor>(
    system: KVMSystem, flavor: Flavor.Type, configuration: GuestChurnConfiguration
  ) throws -> GuestChurnReport {
    let limit = try system.recommendedVCPUCount()
    guard configuration.vcpus >= 1, configuration.vcpus <= limit else {
      throw GuestChurnSetupError(
        description: "--vcpus \(configuration.vcpus) is outside 1...\(limit) (KVM_CAP_NR_VCPUS)")
    }
    guard configuration.stableDevices >= 0, configuration.churnDevices >= 0,
      configuration.hotplugThreads >= 0
    else { throw GuestChurnSetupError(description: "device and thread counts must be >= 0") }
    if configuration.kernelIOEventFD, !(try system.supportsIOEventFD()) {
      throw GuestChurnSetupError(description: "KVM_CAP_IOEVENTFD is missing")
    }
    let registered = configuration.stableDevices + configuration.churnDevices

    let iterations =
      try configuration.roundIterations
      ?? calibrate(system: system, configuration: configuration, registeredKeys: registered)
    let program = Self.program(iterations: iterations, registeredKeys: registered)
    let guest = try GuestRun(
      system: system, programs: Array(repeating: program, count: configuration.vcpus))
    let perRound = program.expectedWrites()
    var keys = Array(perRound.keys).sorted { $0.description < $1.description }
    var random = SplitMix64(seed: configuration.seed)
    keys.shuffle(using: &random)
    let stableKeys = Array(keys.prefix(configuration.stableDevices))
    let churnKeys = Array(
      keys.dropFirst(configuration.stableDevices).prefix(configuration.churnDevices))

    let portBus = IOBus(flavor: Flavor.self)
    let mmioBus = IOBus(flavor: Flavor.self)
    let registrar = Registrar(
      mirror: configuration.kernelIOEventFD
        ? KernelIOEventFDMirror(vm: guest.vm, portBus: portBus, mmioBus: mmioBus) : nil,
      portBus: portBus, mmioBus: mmioBus)

    // Every eventfd is created up front and kept until the final drain, so a signal that
    // lands after its registration is gone is still counted against its key.
    let poller = try EventPoller()
    var keyOfEventFD: [ObjectIdentifier: GuestWrite] = [:]
    var allEventFDs: [EventFD] = []
    func makeEventFD(for key: GuestWrite) throws -> EventFD {
      let eventFD = try EventFD()
      try poller.add(eventFD)
      keyOfEventFD[ObjectIdentifier(eventFD)] = key
      allEventFDs.append(eventFD)
      return eventFD
    }
    var stable: [Registrar<Flavor>.Token] = []
    for key in stableKeys {
      stable.append(try registrar.register(try makeEventFD(for: key), key: key))
    }
    // Two eventfds per churned pair, alternated, so a fresh registration can take
    // signals while late ones may still reach the previous eventfd.
    var pools: [[EventFD]] = []
    for key in churnKeys { pools.append([try makeEventFD(for: key), try makeEventFD(for: key)]) }
    let eventFDKeys = keyOfEventFD

    let drained = Mutex<[GuestWrite: Int]>([:])
    let hotplugFailures = Mutex<[String]>([])
    let hotplugOperations = Atomic<Int>(0)
    let stopHotplug = Atomic<Bool>(false)
    let stopConsumer = Atomic<Bool>(false)

    let consumer = try HostThread {
      while !stopConsumer.load(ordering: .acquiring) {
        guard let ready = try? poller.wait(timeout: .milliseconds(20)) else { continue }
        guard !ready.isEmpty else { continue }
        drained.withLock { counts in
          for (eventFD, count) in ready {
            counts[eventFDKeys[ObjectIdentifier(eventFD)]!, default: 0] += Int(count)
          }
        }
      }
    }

    let churnSlots = pools.enumerated().map {
      (index: $0.offset, key: churnKeys[$0.offset], pool: $0.element)
    }
    var hotplugThreads: [HostThread] = []
    for thread in 0..<configuration.hotplugThreads {
      let owned = churnSlots.filter { $0.index % configuration.hotplugThreads == thread }
      guard !owned.isEmpty else { continue }
      let seed = configuration.seed &+ 0x9E37_79B9 &* UInt64(thread + 1)
      hotplugThreads.append(
        try HostThread {
          var random = SplitMix64(seed: seed)
          var live: [Registrar<Flavor>.Token?] = Array(repeating: nil, count: owned.count)
          var uses = Array(repeating: 0, count: owned.count)
          var operations = 0
          // Capped: a failure that repeats on every operation must not exhaust memory.
          func fail(_ what: String) {
            hotplugFailures.withLock { if $0.count < 100 { $0.append(what) } }
          }
          while !stopHotplug.load(ordering: .relaxed) {
            let slot = Int(random.next() % UInt64(owned.count))
            if let token = live[slot] {
              do throws(KernelIOEventFDMirrorError) {
                try registrar.unregister(token)
                live[slot] = nil
                operations += 1
              } catch { fail("unregister \(owned[slot].key): \(error)") }
            } else {
              let pool = owned[slot].pool
              let eventFD = pool[uses[slot] % pool.count]
              uses[slot] += 1
              do throws(KernelIOEventFDMirrorError) {
                live[slot] = try registrar.register(eventFD, key: owned[slot].key)
                operations += 1
              } catch { fail("register \(owned[slot].key): \(error)") }
            }
          }
          for case let token? in live {
            do throws(KernelIOEventFDMirrorError) {
              try registrar.unregister(token)
              operations += 1
            } catch { fail("final unregister: \(error)") }
          }
          hotplugOperations.add(operations, ordering: .relaxed)
        })
    }

    let handlers = (0..<configuration.vcpus).map { _ in
      BusExitHandler(portBus: portBus, mmioBus: mmioBus)
    }
    let clock = ContinuousClock()
    let start = clock.now
    var rounds = 0
    var exits = 0
    var guestTime = Duration.zero
    var violations: [GuestChurnViolation] = []
    var runError: KVMError?
    while rounds == 0 || clock.now - start < configuration.duration {
      do {
        let roundStart = clock.now
        let statistics = try guest.run(handlers: handlers)
        guestTime += clock.now - roundStart
        rounds += 1
        for vcpu in statistics { exits += vcpu.exits }
      } catch {
        runError = error
        break
      }
      violations += checkReads(guest: guest, program: program)
    }

    stopHotplug.store(true, ordering: .relaxed)
    for thread in hotplugThreads { thread.join() }
    stopConsumer.store(true, ordering: .releasing)
    consumer.join()
    for token in stable {
      do throws(KernelIOEventFDMirrorError) {
        try registrar.unregister(token)
      } catch { hotplugFailures.withLock { $0.append("stable unregister: \(error)") } }
    }
    if let runError { throw GuestChurnSetupError(description: "guest run failed: \(runError)") }

    // Final drain: vCPUs have halted and every registration is gone (unregister waited
    // for both the kernel and a grace period), so nothing can signal any more.
    var drainedCounts = drained.withLock { $0 }
    for eventFD in allEventFDs {
      let count = eventFD.drain()
      if count > 0 {
        drainedCounts[eventFDKeys[ObjectIdentifier(eventFD)]!, default: 0] += Int(count)
      }
    }
    let unclaimed = mergedUnclaimedWrites(handlers)

    var executedTotal = 0
    let stableSet = Set(stableKeys)
    for key in Set(perRound.keys).union(unclaimed.keys).union(drainedCounts.keys).sorted(by: {
      $0.description < $1.description
    }) {
      let executed = (perRound[key] ?? 0) * rounds * configuration.vcpus
      let signals = drainedCounts[key] ?? 0
      let missed = unclaimed[key] ?? 0
      executedTotal += executed
      if signals + missed != executed {
        violations.append(
          GuestChurnViolation(
            kind: "count", key: key.description, executed: executed, drained: signals,
            unclaimed: missed))
      }
      if stableSet.contains(key), missed != 0 {
        violations.append(
          GuestChurnViolation(
            kind: "stableUnclaimed", key: key.description, executed: executed, drained: signals,
            unclaimed: missed))
      }
    }
    let failedSignals = portBus.statistics.failedSignals + mmioBus.statistics.failedSignals
    if failedSignals > 0 {
      violations.append(
        GuestChurnViolation(
          kind: "failedSignals", key: "buses", executed: 0, drained: Int(failedSignals),
          unclaimed: 0))
    }
    for failure in hotplugFailures.withLock({ $0 }) {
      violations.append(
        GuestChurnViolation(kind: "hotplug", key: failure, executed: 0, drained: 0, unclaimed: 0))
    }
    let reads = program.accesses.filter {
      if case .portRead = $0 { return true }
      if case .mmioRead = $0 { return true }
      return false
    }.count
    let readsExecuted = reads * iterations * rounds * configuration.vcpus
    let halts = rounds * configuration.vcpus
    let writeExits = exits - readsExecuted - halts
    let kernelAbsorbed = executedTotal - writeExits
    if configuration.kernelIOEventFD, configuration.stableDevices > 0, kernelAbsorbed <= 0 {
      violations.append(
        GuestChurnViolation(
          kind: "kernelPathUnused", key: "KVM_IOEVENTFD", executed: executedTotal, drained: 0,
          unclaimed: 0))
    }
    return GuestChurnReport(
      configuration: configuration, rounds: rounds, roundIterations: iterations,
      keys: perRound.count, executedWrites: executedTotal,
      drainedSignals: drainedCounts.values.reduce(0, +),
      unclaimedWrites: unclaimed.values.reduce(0, +), kernelAbsorbedWrites: kernelAbsorbed,
      exits: exits, hotplugOperations: hotplugOperations.load(ordering: .relaxed),
      guestSeconds: guestTime.seconds, violations: violations)
  }

  /// Unclaimed reads must reach the guest as all ones, truncated to the access size.
  private static func checkReads(guest: GuestRun, program: GuestProgram) -> [GuestChurnViolation] {
    var violations: [GuestChurnViolation] = []
    for vcpu in guest.vcpus.indices {
      for (index, access) in program.accesses.enumerated() {
        let size: Int
        switch access {
        case .portRead(_, let s), .mmioRead(_, let s): size = s
        case .portWrite, .mmioWrite: continue
        }
        let expected: UInt64 = size == 8 ? .max : (1 << (8 * UInt64(size))) - 1
        let stored = (try? guest.readResult(vcpu: vcpu, access: index)) ?? 0
        if program.iterations > 0, stored != expected {
          violations.append(
            GuestChurnViolation(
              kind: "readValue",
              key: "vCPU \(vcpu) access \(index) read 0x\(String(stored, radix: 16))",
              executed: 0, drained: 0, unclaimed: 0))
        }
      }
    }
    return violations
  }

  /// Picks iterations so one round takes about 0.2 s (less for short runs), timing a
  /// short all-exits run of the same program on one vCPU.
  private static func calibrate(
    system: KVMSystem, configuration: GuestChurnConfiguration, registeredKeys: Int
  ) throws -> Int {
    let probeIterations = 200
    let probe = try GuestRun(
      system: system,
      programs: [program(iterations: probeIterations, registeredKeys: registeredKeys)])
    let handler = BusExitHandler(portBus: IOBus(), mmioBus: IOBus())
    let elapsed = try probe.run(handlers: [handler])[0].elapsed
    let target = min(Duration.milliseconds(200), configuration.duration / 5)
    let perIteration = max(elapsed / probeIterations, .nanoseconds(100))
    return max(1, Int((target / perIteration).rounded(.down)))
  }
}

/// Registers eventfds on the bus alone, or on the bus and in the kernel.
struct Registrar<Flavor: RCUFlavor>: Sendable {
  /// A live registration.
  enum Token: Sendable {
    case bus(Registration, GuestAddressSpace)
    case mirrored(MirroredRegistration)
  }

  let mirror: KernelIOEventFDMirror<Flavor>?
  let portBus: IOBus<Flavor>
  let mmioBus: IOBus<Flavor>

  func register(_ eventFD: EventFD, key: GuestWrite) throws(KernelIOEventFDMirrorError) -> Token {
    if let mirror {
      return .mirrored(
        try mirror.register(
          eventFD, space: key.space, address: key.address, size: key.size, match: .value(key.value)
        ))
    }
    let bus = key.space == .pio ? portBus : mmioBus
    do {
      return .bus(
        try bus.registerEventFD(
          eventFD, address: key.address, size: key.size, match: .value(key.value)), key.space)
    } catch {
      throw .bus(error)
    }
  }

  func unregister(_ token: Token) throws(KernelIOEventFDMirrorError) {
    switch token {
    case .mirrored(let registration):
      try mirror!.unregister(registration)
    case .bus(let registration, let space):
      do {
        try (space == .pio ? portBus : mmioBus).unregister(registration)
      } catch {
        throw .bus(error)
      }
    }
  }
}

extension Duration {
  /// The duration in seconds as a floating-point number.
  public var seconds: Double {
    let (whole, fraction) = components
    return Double(whole) + Double(fraction) / 1e18
  }
}
