import ConcurrentBus
import Foundation
import RCU
import Synchronization
import Testing

/// The two cases a VMM meets first: a PCI BAR moved by a config-space write, and a virtio
/// device turning its queue notifiers on and off from its own status register.
@Suite("Devices that change the bus while vCPUs dispatch", .serialized)
struct DeviceScenarioTests {
  /// How the config-space device moves its BAR: the bus's one-publish move, or (the fault
  /// the check must catch) an unregister and a register, two publishes with a gap between.
  enum MoveStrategy: String, CaseIterable, Sendable {
    case onePublish, removeThenInsert
  }

  @Test("a config-space write moves a BAR while vCPUs dispatch: every access hits old or new")
  func barMoveHasNoGap() throws {
    let outcome = try runBarMoves(.onePublish, until: { $0.moves >= 4000 && $0.inFlight >= 200 })
    #expect(outcome.gaps == 0, "accesses that found the BAR at neither address")
    #expect(outcome.inFlight > 0, "no access overlapped a move: the run proved nothing")
    #expect(outcome.failures.isEmpty, "\(outcome.failures)")
    #expect(outcome.claimed == outcome.barWrites, "claimed accesses reached the BAR device")
  }

  @Test("the gap check catches a move made of two publishes")
  func twoPublishMoveIsCaught() throws {
    let outcome = try runBarMoves(.removeThenInsert, until: { $0.gaps > 0 })
    #expect(outcome.gaps > 0, "a remove-then-insert move went unnoticed")
  }

  /// Runs a guest thread that rewrites the BAR through the config-space device while two vCPU
  /// threads probe the old and the new address, until `done` or 20 s.
  func runBarMoves(_ strategy: MoveStrategy, until done: @escaping @Sendable (BarOutcome) -> Bool)
    throws -> BarOutcome
  {
    let pio = IOBus(space: .portIO)
    let mmio = IOBus()
    let bar = RecordingDevice("BAR 0")
    let config = try ConfigSpaceDevice(mmio: mmio, bar: bar, base: BarLayout.base(0), strategy)
    _ = try pio.register(config, base: BarLayout.configPort, length: 4)
    let progress = BarProgress()
    let deadline = ContinuousClock.now + .seconds(20)
    onThreads(3) { index in
      if index == 0 {
        // The guest: each config write moves the BAR to the other base.
        var move = 1
        while !progress.stop.load(ordering: .acquiring) {
          _ = pio.write(address: BarLayout.configPort, size: 4, value: BarLayout.base(move))
          move += 1
          if done(progress.outcome(config)) || ContinuousClock.now > deadline {
            progress.stop.store(true, ordering: .releasing)
          }
        }
      } else {
        MembRCU.registerCurrentThread()
        defer { MembRCU.unregisterCurrentThread() }
        while !progress.stop.load(ordering: .acquiring) { progress.probe(mmio, config) }
      }
    }
    return progress.outcome(config, barWrites: bar.writeCount)
  }
}

enum BarLayout {
  static let configPort: UInt64 = 0xCFC
  /// Move `n` puts the BAR at base(n): two 32-bit bases, alternating.
  static func base(_ move: Int) -> UInt64 { move % 2 == 0 ? 0xC000_0000 : 0xD000_0000 }
}

struct BarOutcome {
  var moves = 0
  var gaps = 0
  var inFlight = 0
  var claimed = 0
  var barWrites = 0
  var failures: [String] = []
}

/// A PCI config-space window on the port-I/O bus: a 4-byte write is the BAR's new base, and
/// moves the BAR's MMIO registration there, from inside the guest's write.
final class ConfigSpaceDevice: IODevice {
  let mmio: IOBus<MembRCU>
  let bar: RecordingDevice
  let strategy: DeviceScenarioTests.MoveStrategy
  private let current: Locked<Registration>
  /// Moves begun and finished: move n puts the BAR at BarLayout.base(n).
  let started = Atomic<Int>(0)
  let finished = Atomic<Int>(0)
  private let errors = Locked<[String]>([])

  init(
    mmio: IOBus<MembRCU>, bar: RecordingDevice, base: UInt64,
    _ strategy: DeviceScenarioTests.MoveStrategy
  ) throws {
    self.mmio = mmio
    self.bar = bar
    self.strategy = strategy
    current = Locked(try mmio.register(bar, base: base, length: 0x1000))
  }

  var failures: [String] { errors.value }

  func read(offset: UInt64, size: Int) -> UInt64? { nil }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    let registration = current.value
    // Release: a vCPU that reads the new count sees the bus as of the previous move.
    started.add(1, ordering: .releasing)
    do {
      switch strategy {
      case .onePublish:
        let moved = try mmio.move(registration, to: value)
        current.withLock { $0 = moved }
      case .removeThenInsert:
        try mmio.unregister(registration) {}
        let moved = try mmio.register(bar, base: value, length: 0x1000)
        current.withLock { $0 = moved }
      }
    } catch {
      errors.withLock { $0.append("\(error)") }
    }
    finished.add(1, ordering: .releasing)
    return true
  }
}

/// What the vCPU threads found, shared between them.
final class BarProgress: Sendable {
  let stop = Atomic<Bool>(false)
  private let gaps = Atomic<Int>(0)
  private let inFlight = Atomic<Int>(0)
  private let claimed = Atomic<Int>(0)

  /// One probe: the BAR's old address, then its new one. If no further move began in the
  /// meantime, the bus was before or after move `s` for both accesses; a one-publish move
  /// never shows neither, and once the old address is gone the new one is there (a thread
  /// never sees an older snapshot after a newer one).
  func probe(_ mmio: IOBus<MembRCU>, _ config: ConfigSpaceDevice) {
    let s = config.started.load(ordering: .acquiring)
    let moving = config.finished.load(ordering: .acquiring) < s
    let old = mmio.write(address: BarLayout.base(s - 1) + 0x10, size: 4, value: 1)
    let new = mmio.write(address: BarLayout.base(s) + 0x10, size: 4, value: 1)
    // Orders the second dispatch's load of the table before the reload of the count.
    atomicMemoryFence(ordering: .acquiring)
    claimed.add((old == .unclaimed ? 0 : 1) + (new == .unclaimed ? 0 : 1), ordering: .relaxed)
    guard config.started.load(ordering: .acquiring) == s else { return }
    if moving { inFlight.add(1, ordering: .relaxed) }
    if old == .unclaimed, new == .unclaimed { gaps.add(1, ordering: .relaxed) }
  }

  func outcome(_ config: ConfigSpaceDevice, barWrites: Int = 0) -> BarOutcome {
    BarOutcome(
      moves: config.finished.load(ordering: .relaxed), gaps: gaps.load(ordering: .relaxed),
      inFlight: inFlight.load(ordering: .relaxed), claimed: claimed.load(ordering: .relaxed),
      barWrites: barWrites, failures: config.failures)
  }
}
