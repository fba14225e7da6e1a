import ConcurrentBus

/// Designs (a) to (d): `IOBus` itself, on a flavor that supplies the synchronization.
struct BusTarget<Flavor: RCUFlavor>: ReadTarget {
  let bus: IOBus<Flavor>
  let device = NullDevice()

  /// `bus`, given `entries` ranges of the standard layout and what `more` registers, in one
  /// batch.
  init(
    bus: IOBus<Flavor>, entries: Int,
    more: (inout IOBusTransaction) throws(IOBusError) -> Void = { _ throws(IOBusError) in }
  ) throws {
    self.bus = bus
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for index in 0..<entries {
        _ = try tx.register(
          device, base: BenchLayout.base(ofEntry: index), length: BenchLayout.length)
      }
      try more(&tx)
    }
  }

  /// A fresh bus on `Flavor` with `entries` ranges and what `more` registers.
  init(
    entries: Int,
    more: (inout IOBusTransaction) throws(IOBusError) -> Void = { _ throws(IOBusError) in }
  ) throws {
    try self.init(bus: IOBus(flavor: Flavor.self), entries: entries, more: more)
  }

  @inline(__always)
  func dispatch(address: UInt64) -> Bool {
    bus.write(address: address, size: 4, value: 1) != .unclaimed
  }

  func prepareThread() { Flavor.registerCurrentThread() }

  func barrier() { Flavor.barrier() }

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
