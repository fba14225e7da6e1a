import ConcurrentBus
import HostSupport
import KVM
import KVMGuests
import RCU
import StressKit
import Synchronization

/// Guest writes per second along each exit path, from `ExitPathComparison.run`.
public struct ExitPathComparison: Sendable, Hashable, Codable {
  /// The RCU flavor of the buses in (b) and (c), whose thread hooks the vCPU runs.
  public var flavor: String
  /// Guest `out` instructions per measured run.
  public var iterations: Int
  /// Alternating repeats of every path.
  public var repeats: Int
  /// Other eventfd registrations on the written port during (b) and (c).
  public var devices: Int
  /// (a) every write exits to a handler that only counts it.
  public var bareExit: RepeatSummary
  /// (b) every write exits and is dispatched through the bus to a counting device.
  public var busDispatch: RepeatSummary
  /// (c) the write matches an eventfd registration mirrored into KVM_IOEVENTFD (bus in
  /// place, no exit).
  public var kernelIOEventFD: RepeatSummary
  /// KVM_IOEVENTFD assigned directly, with no bus: the reference for (c).
  public var rawKernelIOEventFD: RepeatSummary
  /// b/a per repeat, in writes per second (1 means the bus costs nothing).
  public var busOverBare: RepeatSummary
  /// Time per write of (b) over (a) per repeat (the inverse ratio; the issue's
  /// "b/a <= 1.01" read as cost).
  public var busCostOverBare: RepeatSummary
  /// c/a per repeat.
  public var kernelOverBare: RepeatSummary
  /// c/raw per repeat.
  public var kernelOverRaw: RepeatSummary
  /// Nanoseconds per write of the (b) handler called directly, minus the (a) handler,
  /// without KVM: the bus's own cost, free of exit-time noise.
  public var busDispatchNanoseconds: Double
  /// `busDispatchNanoseconds` over the median bare exit time per write.
  public var busDispatchShareOfExit: Double
  /// Nanoseconds per exit of the (b) handler's thread hooks called directly, without KVM:
  /// `willEnterGuest` then `didExitGuest` (for QSBR: going offline and back online).
  public var threadHookNanoseconds: Double
  /// Runs whose device or eventfd did not see exactly `iterations` writes.
  public var violations: [String]

  /// The port every measured write goes to.
  public static let port: UInt16 = 0x1000
  /// The value every measured write carries.
  public static let value: UInt64 = 0xC0FF_EE00

  /// Measures the four paths `repeats` times each, rotating which goes first, on one VM
  /// with one vCPU whose program writes `value` to `port` (4 bytes) `iterations` times.
  public static func run<Flavor: RCUFlavor>(
    system: KVMSystem, flavor: Flavor.Type, iterations: Int, repeats: Int, devices: Int
  ) throws(SetupFailure) -> ExitPathComparison {
    do {
      return try measure(
        system: system, flavor: flavor, iterations: iterations, repeats: repeats,
        devices: devices)
    } catch let error as SetupFailure {
      throw error
    } catch {
      throw SetupFailure(message: "\(error)")
    }
  }

  private enum Path: CaseIterable { case bare, bus, kernel, raw }

  /// The other eventfd registrations at the port by default (`stress kvm --compare`'s
  /// `--devices`).
  public static let otherDevices = 16

  /// The port bus of path (b): the written value is the last value-matched entry at the
  /// port, behind an eventfd registration for another value per eventfd of `others`, so the
  /// lookup does real work; `counter` claims the written value.
  static func busPath<Flavor: RCUFlavor>(
    _ flavor: Flavor.Type, others: [EventFD], counter: CountingDevice
  ) throws -> IOBus<Flavor> {
    try bus(flavor, others: others) { (tx: inout IOBusTransaction) throws(IOBusError) in
      _ = try tx.register(counter, address: UInt64(port), size: 4, match: .value(value))
    }
  }

  /// A bus with each of `others` registered at the port for its own value (1, 2, ...), none
  /// of them the written one, and what `more` registers, in one batch (one publish, one
  /// retired table).
  private static func bus<Flavor: RCUFlavor>(
    _ flavor: Flavor.Type, others: [EventFD],
    more: (inout IOBusTransaction) throws(IOBusError) -> Void = { _ throws(IOBusError) in }
  ) throws -> IOBus<Flavor> {
    let bus = IOBus(flavor: flavor)
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for (index, eventFD) in others.enumerated() {
        _ = try tx.registerEventFD(
          eventFD, address: UInt64(port), size: 4, match: .value(UInt64(index + 1)))
      }
      try more(&tx)
    }
    return bus
  }

  private static func measure<Flavor: RCUFlavor>(
    system: KVMSystem, flavor: Flavor.Type, iterations: Int, repeats: Int, devices: Int
  ) throws -> ExitPathComparison {
    guard iterations > 0, repeats > 0, devices >= 0 else {
      throw SetupFailure(message: "iterations and repeats must be positive")
    }
    let program = GuestProgram(
      iterations: iterations, accesses: [.portWrite(port: port, size: 4, values: [value])])
    let guest = try GuestRun(system: system, programs: [program])
    let key = UInt64(port)

    let others = try (0..<devices).map { _ in try EventFD() }
    let counter = CountingDevice()
    let busHandler = BusExitHandler(
      portBus: try busPath(flavor, others: others, counter: counter),
      mmioBus: IOBus(flavor: Flavor.self))

    // (c): the same other registrations, plus the written value mirrored into the kernel.
    let kernelBus = try bus(Flavor.self, others: others)
    let kernelHandler = BusExitHandler(portBus: kernelBus, mmioBus: IOBus(flavor: Flavor.self))
    let mirror = KernelIOEventFDMirror(
      vm: guest.vm, portBus: kernelBus, mmioBus: IOBus(flavor: Flavor.self))
    let bare = CountingHandler()

    var violations: [String] = []
    func expect(_ observed: UInt64, _ what: String) {
      if observed != UInt64(iterations) {
        violations.append("\(what): saw \(observed) of \(iterations) writes")
      }
    }
    func time(_ path: Path) throws -> Double {
      let elapsed: Duration
      switch path {
      case .bare:
        bare.count = 0
        elapsed = try guest.run(handlers: [bare])[0].elapsed
        expect(UInt64(bare.count), "bare exit")
      case .bus:
        let before = counter.count.load(ordering: .relaxed)
        elapsed = try guest.run(handlers: [busHandler])[0].elapsed
        expect(counter.count.load(ordering: .relaxed) - before, "bus dispatch")
      case .kernel:
        let eventFD = try EventFD()
        let mirrored = try mirror.register(
          eventFD, space: .pio, address: key, size: 4, match: .value(value))
        elapsed = try guest.run(handlers: [kernelHandler])[0].elapsed
        try mirror.unregister(mirrored)
        expect(eventFD.drain(), "kernel ioeventfd through the mirror")
      case .raw:
        let eventFD = try EventFD()
        let assignment = IOEventFDAssignment(
          eventFD: eventFD.descriptor, address: key, length: 4, space: .pio, datamatch: value)
        try guest.vm.assign(assignment)
        elapsed = try guest.run(handlers: [bare])[0].elapsed
        try guest.vm.deassign(assignment)
        expect(eventFD.drain(), "raw kernel ioeventfd")
      }
      return Double(iterations) / elapsed.seconds
    }

    for path in Path.allCases { _ = try time(path) }  // warm-up, discarded
    violations = []
    let rates = try interleavedRounds(Path.allCases, rounds: repeats) { path, _ in try time(path) }
    func samples(_ path: Path) -> [Double] { rates[Path.allCases.firstIndex(of: path)!] }
    func ratios(_ path: Path, over base: Path) -> RepeatSummary {
      RepeatSummary(zip(samples(path), samples(base)).map { $0 / $1 })
    }
    // The same two handlers called in a loop on this thread: what the bus and the thread
    // hooks add per exit, measured without the exit's noise. The thread reads like a vCPU:
    // registered with the flavor and online.
    let clock = ContinuousClock()
    let calls = 1_000_000
    let directCounter = CountingHandler()
    busHandler.beginDispatching()
    let bareStart = clock.now
    for _ in 0..<calls { directCounter.portWrite(port: port, size: 4, value: value) }
    let bareDirect = clock.now - bareStart
    let busStart = clock.now
    for _ in 0..<calls { busHandler.portWrite(port: port, size: 4, value: value) }
    let busDirect = clock.now - busStart
    let hookStart = clock.now
    for _ in 0..<calls {
      busHandler.willEnterGuest()
      busHandler.didExitGuest()
    }
    let hooks = clock.now - hookStart
    busHandler.endDispatching()
    let dispatchNanoseconds = max(0, (busDirect - bareDirect).seconds * 1e9 / Double(calls))
    let bareExitNanoseconds = 1e9 / RepeatSummary(samples(.bare)).median
    withExtendedLifetime(others) {}
    return ExitPathComparison(
      flavor: Flavor.name, iterations: iterations, repeats: repeats, devices: devices,
      bareExit: RepeatSummary(samples(.bare)), busDispatch: RepeatSummary(samples(.bus)),
      kernelIOEventFD: RepeatSummary(samples(.kernel)),
      rawKernelIOEventFD: RepeatSummary(samples(.raw)),
      busOverBare: ratios(.bus, over: .bare), busCostOverBare: ratios(.bare, over: .bus),
      kernelOverBare: ratios(.kernel, over: .bare), kernelOverRaw: ratios(.kernel, over: .raw),
      busDispatchNanoseconds: dispatchNanoseconds,
      busDispatchShareOfExit: dispatchNanoseconds / bareExitNanoseconds,
      threadHookNanoseconds: hooks.seconds * 1e9 / Double(calls), violations: violations)
  }
}
