import ConcurrentBus

/// Design (e): see ``SwappedReferenceBus``.
struct SwappedTarget: ReadTarget {
  let bus: SwappedReferenceBus
  let device = NullDevice()

  /// A swapped reference to a table of `entries` ranges of the standard layout.
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

  func barrier() { MembRCU.barrier() }

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
