import ArgumentParser
import ConcurrentBus
import HostSupport
import RCU

/// The device every benchmark entry points at: claims every access and does nothing, so
/// that what is measured is the bus, plus the one dynamic call that is the device's own.
final class NullDevice: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { 0 }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

/// The bus designs compared on the read side.
enum Design: String, CaseIterable, Codable, Sendable, ExpressibleByArgument {
  /// (a) No synchronization: one owner, the floor.
  case floor
  /// (b) This project's RCU bus on liburcu's memb flavor, `IOBus<MembRCU>`.
  case memb
  /// (b') The same bus on liburcu's qsbr flavor, `IOBus<QSBRRCU>`: readers registered
  /// online, announcing a quiescent state every ``dispatchesPerCheck`` (64) dispatches.
  case qsbr
  /// (c) The table behind a pthread rwlock.
  case rwlock
  /// (d) The table behind a pthread mutex.
  case mutex
  /// (e) An atomically swapped class reference, retained per lookup.
  case swapped

  var label: String {
    switch self {
    case .floor: "(a) unsynchronized"
    case .memb: "(b) RCU bus, memb"
    case .qsbr: "(b') RCU bus, qsbr"
    case .rwlock: "(c) rwlock"
    case .mutex: "(d) mutex"
    case .swapped: "(e) swapped ref"
    }
  }
}

/// The table layout every design gets: `count` ranges of 0x100 bytes, 4 KiB apart.
enum BenchLayout {
  static let base: UInt64 = 0x1_0000_0000
  static let stride: UInt64 = 0x1000
  static let length: UInt64 = 0x100
  /// Where the churning writer registers and unregisters, away from every reader address.
  static let churnBase: UInt64 = 0xF000_0000_0000

  static func base(ofEntry index: Int) -> UInt64 { base + UInt64(index) * stride }

  /// `count` write addresses drawn uniformly over `entries` entries, 4-byte aligned inside
  /// each range.
  static func addresses(count: Int, entries: Int, seed: UInt64) -> [UInt64] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in
      base(ofEntry: Int.random(in: 0..<entries, using: &random))
        + UInt64.random(in: 0..<(length / 4), using: &random) * 4
    }
  }
}

/// What the read-side harness needs from a design: a dispatch, per-thread setup, and one
/// registry update for the churning writer.
protocol ReadTarget: Sendable {
  /// Dispatches a 4-byte guest write; whether a device claimed it.
  func dispatch(address: UInt64) -> Bool
  /// Prepares a reader thread (RCU reader registration; for QSBR, online) before it is timed.
  func prepareThread()
  /// Prepares the writer thread: it never reads, so under QSBR it stays offline (an online
  /// thread asleep between updates would hold back every grace period).
  func prepareWriter()
  /// Called by a busy reader every ``dispatchesPerCheck`` dispatches, between two of them,
  /// where it holds nothing it read: QSBR's quiescent state; nothing for the other designs.
  func quiescentState()
  /// A vCPU-like reader enters and leaves "guest time", where it holds nothing it read:
  /// QSBR goes offline and back online; nothing for the other designs.
  func enterGuest()
  func leaveGuest()
  /// Registers a device away from the readers' addresses, or unregisters it (synchronously:
  /// the writer waits for readers before the device is released) when given one.
  func churn(_ registration: Registration?) -> Registration?
}

/// Designs (a) to (d): `IOBus` itself, on a flavor that supplies the synchronization.
struct BusTarget<Flavor: RCUFlavor>: ReadTarget {
  let bus: IOBus<Flavor>
  let device = NullDevice()

  init(bus: IOBus<Flavor>, entries: Int) throws {
    self.bus = bus
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for index in 0..<entries {
        _ = try tx.register(
          device, base: BenchLayout.base(ofEntry: index), length: BenchLayout.length)
      }
    }
  }

  @inline(__always)
  func dispatch(address: UInt64) -> Bool {
    bus.write(address: address, size: 4, value: 1) != .unclaimed
  }

  func prepareThread() { Flavor.registerCurrentThread() }

  func prepareWriter() {
    Flavor.registerCurrentThread()
    Flavor.threadOffline()
  }

  @inline(__always)
  func quiescentState() { Flavor.quiescentState() }

  @inline(__always)
  func enterGuest() { Flavor.threadOffline() }

  @inline(__always)
  func leaveGuest() { Flavor.threadOnline() }

  func churn(_ registration: Registration?) -> Registration? {
    do {
      if let registration {
        try bus.unregister(registration)
        return nil
      }
      return try bus.register(device, base: BenchLayout.churnBase, length: BenchLayout.length)
    } catch {
      fatalError("churn update failed: \(error)")
    }
  }
}

/// Design (e): see ``SwappedReferenceBus``.
struct SwappedTarget: ReadTarget {
  let bus: SwappedReferenceBus
  let device = NullDevice()

  init(entries: Int) throws {
    let source = IOBus(flavor: UnsynchronizedFlavor.self)
    _ = try BusTarget(bus: source, entries: entries)
    bus = SwappedReferenceBus(source: source)
  }

  @inline(__always)
  func dispatch(address: UInt64) -> Bool {
    bus.write(address: address, size: 4, value: 1) != .unclaimed
  }

  func prepareThread() { MembRCU.registerCurrentThread() }

  func prepareWriter() { MembRCU.registerCurrentThread() }

  func quiescentState() {}
  func enterGuest() {}
  func leaveGuest() {}

  func churn(_ registration: Registration?) -> Registration? {
    do {
      var result: Registration?
      if let registration {
        try bus.source.unregister(registration)
      } else {
        result = try bus.source.register(
          device, base: BenchLayout.churnBase, length: BenchLayout.length)
      }
      bus.republish()
      return result
    } catch {
      fatalError("churn update failed: \(error)")
    }
  }
}
