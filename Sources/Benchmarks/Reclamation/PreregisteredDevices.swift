import ConcurrentBus

/// Devices registered ahead of a run of unregisters in a row, in one batch, their
/// reclamation waited out.
struct PreregisteredDevices: Sendable {
  let registrations: [Registration]

  /// `count` devices on `target`'s bus, away from its table.
  init<Flavor>(_ target: BusTarget<Flavor>, count: Int) throws {
    registrations = try target.bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try (0..<count).map { index throws(IOBusError) in
        try tx.register(
          target.device, base: BenchLayout.churnBase + UInt64(index) * BenchLayout.stride,
          length: BenchLayout.length)
      }
    }
    Flavor.barrier()
  }

  /// The device for the `index`th unregister, or nil when each is registered as it comes.
  func take(_ index: Int) -> Registration? {
    registrations.isEmpty ? nil : registrations[index]
  }
}
