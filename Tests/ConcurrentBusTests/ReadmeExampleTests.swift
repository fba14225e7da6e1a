import ConcurrentBus
import Testing

// The code in README.md's "Using the bus" section, kept here so it keeps compiling and
// keeps doing what the README says. Edit both together.

/// A UART model: a range device.
final class UART: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { offset == 5 ? 0x60 : 0 }  // LSR: ready
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

@Test("the README example works as written")
func readmeExample() throws {
  // One bus per address space.
  let pio = IOBus()
  let mmio = IOBus()

  // A range device: every access inside [0x3F8, 0x400).
  let uart = try pio.register(UART(), base: 0x3F8, length: 8)

  // virtio-mmio: the device model takes its window; each queue's notifier is an eventfd
  // that claims a write to QueueNotify (offset 0x50) by its value, the queue index.
  let window = try mmio.register(UART(), base: 0xFEB0_0000, length: 0x200)
  let queues = try (0..<4).map { _ in try EventFD() }
  let notifiers = try mmio.update { (tx: inout IOBusTransaction) throws(IOBusError) in
    // All four in one publish; registering never waits for a grace period.
    try queues.enumerated().map { index, eventFD throws(IOBusError) in
      try tx.registerEventFD(eventFD, address: 0xFEB0_0050, size: 4, match: .value(UInt64(index)))
    }
  }

  // vCPU threads: lock-free dispatch.
  #expect(pio.read(address: 0x3FD, size: 1) == 0x60)
  #expect(mmio.write(address: 0xFEB0_0050, size: 4, value: 2) == .claimed(notifiers[2].id))
  #expect(queues[2].drain() == 1)
  // A value no eventfd matches falls through to the device model.
  #expect(mmio.write(address: 0xFEB0_0050, size: 4, value: 9) == .claimed(window.id))
  // Hostile input is unclaimed, never a crash.
  #expect(mmio.write(address: 0xFFFF_FFFF_FFFF_FFFF, size: 8, value: 0) == .unclaimed)

  // Mistakes are typed errors and change nothing.
  #expect(throws: IOBusError.overlapsExisting(uart)) {
    try pio.register(UART(), base: 0x3FF, length: 2)
  }

  // Hot-unplug: returns after a grace period, when no vCPU can be inside the device and
  // the bus no longer references it.
  try pio.unregister(uart)
  #expect(pio.write(address: 0x3F8, size: 1, value: 0x41) == .unclaimed)

  // Or without waiting: the closure runs once the device is released.
  try mmio.unregister(notifiers[0]) { print("queue 0 notifier released") }
}

@Test("the README's async example works as written")
func readmeAsyncExample() async throws {
  let mmio = IOBus()
  let doorbell = try mmio.registerEventFD(try EventFD(), address: 0x1000, size: 0, match: .any)
  // In async code, unregister suspends instead of blocking a thread.
  try await mmio.unregister(doorbell)
}
