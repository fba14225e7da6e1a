import ConcurrentBus
import KVM
import KVMGuests
import StressKit

/// Coalesced writes against exits and kernel ioeventfds, side by side in one run.
public struct CoalescedWriteComparison: Sendable, Hashable, Codable {
  /// Sequenced 4-byte writes per measured run.
  public var iterations: Int
  /// Alternating repeats of every path.
  public var repeats: Int
  /// One row per address space.
  public var rates: [CoalescedWriteRates]
  /// Runs where a value was lost, repeated or out of order, or a count was off.
  public var violations: [String]

  /// The port and MMIO address written.
  public static let port: UInt64 = 0x1000
  /// The MMIO address written.
  public static let mmio: UInt64 = 0xD000_0000

  private enum Path: CaseIterable { case exit, coalesced, ioeventfd }

  /// Measures, for ports then MMIO, one vCPU making `iterations` sequenced 4-byte writes to
  /// one address along each path, `repeats` times in rotating order, on `Flavor`'s buses.
  public static func run<Flavor: RCUFlavor>(
    system: KVMSystem, flavor: Flavor.Type, iterations: Int, repeats: Int
  ) throws(SetupFailure) -> CoalescedWriteComparison {
    do {
      var violations: [String] = []
      var rates: [CoalescedWriteRates] = []
      for space in [GuestAddressSpace.pio, .mmio] {
        rates.append(
          try measure(
            system: system, flavor: flavor, space: space, iterations: iterations,
            repeats: repeats, violations: &violations))
      }
      return CoalescedWriteComparison(
        iterations: iterations, repeats: repeats, rates: rates, violations: violations)
    } catch let error as SetupFailure {
      throw error
    } catch {
      throw SetupFailure(message: "\(error)")
    }
  }

  private static func measure<Flavor: RCUFlavor>(
    system: KVMSystem, flavor: Flavor.Type, space: GuestAddressSpace, iterations: Int,
    repeats: Int, violations: inout [String]
  ) throws -> CoalescedWriteRates {
    let address = space == .pio ? port : mmio
    let program = GuestProgram(
      iterations: iterations, sequencedWrites: [.init(space: space, address: address)])
    let guest = try GuestRun(system: system, programs: [program])
    let portBus = IOBus(flavor: Flavor.self)
    let mmioBus = IOBus(flavor: Flavor.self)
    let bus = space == .pio ? portBus : mmioBus
    let coalescing = try KernelCoalescedMirror(vm: guest.vm, portBus: portBus, mmioBus: mmioBus)
    let ioeventfds = KernelIOEventFDMirror(vm: guest.vm, portBus: portBus, mmioBus: mmioBus)

    func time(_ path: Path, exits: inout Int) throws -> Double {
      let check = SequenceCheck(writers: 1, startingAt: [try guest.sequenceCounter(vcpu: 0)])
      let handler = SequenceCheckingHandler(portBus: portBus, mmioBus: mmioBus, check: check)
      let device = SequenceCheckingDevice(check: check)
      let statistics: RunStatistics
      switch path {
      case .exit:
        let registration = try bus.register(device, base: address, length: 16)
        statistics = try guest.run(handlers: [handler])[0]
        try bus.unregister(registration)
      case .coalesced:
        let registration = try coalescing.register(
          device, space: space, base: address, length: 16)
        statistics = try guest.run(handlers: [handler])[0]
        try coalescing.unregister(registration, drainingThrough: handler)
      case .ioeventfd:
        let eventFD = try EventFD()
        let mirrored = try ioeventfds.register(
          eventFD, space: space, address: address, size: 4, match: .any)
        statistics = try guest.run(handlers: [BusExitHandler(portBus: portBus, mmioBus: mmioBus)])[
          0]
        try ioeventfds.unregister(mirrored)
        let signals = eventFD.drain()
        if signals != UInt64(iterations) {
          violations.append(
            "\(space) kernel ioeventfd: \(signals) of \(iterations) writes signalled")
        }
      }
      if path != .ioeventfd {
        for violation in check.finish(executed: [iterations]).prefix(3) {
          violations.append("\(space) \(path): \(violation)")
        }
      }
      exits = statistics.ioExits + statistics.mmioExits
      return Double(iterations) / statistics.elapsed.seconds
    }

    var exits = 0
    for path in Path.allCases { _ = try time(path, exits: &exits) }  // warm-up
    let runs = try interleavedRounds(Path.allCases, rounds: repeats) { path, _ in
      let rate = try time(path, exits: &exits)
      return (rate: rate, exits: exits)
    }
    func samples(_ path: Path) -> [Double] { runs[Path.allCases.firstIndex(of: path)!].map(\.rate) }
    func ratios(_ path: Path, over base: Path) -> RepeatSummary {
      RepeatSummary(zip(samples(path), samples(base)).map { $0 / $1 })
    }
    let coalescedExits = runs[Path.allCases.firstIndex(of: .coalesced)!].map {
      Double($0.exits) * 1000 / Double(iterations)
    }
    return CoalescedWriteRates(
      space: "\(space)", exitToBus: RepeatSummary(samples(.exit)),
      coalesced: RepeatSummary(samples(.coalesced)),
      kernelIOEventFD: RepeatSummary(samples(.ioeventfd)),
      coalescedOverIOEventFD: ratios(.coalesced, over: .ioeventfd),
      coalescedOverExit: ratios(.coalesced, over: .exit),
      ioeventfdOverExit: ratios(.ioeventfd, over: .exit),
      coalescedExitsPerThousand: RepeatSummary(coalescedExits).median)
  }
}
