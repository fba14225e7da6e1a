import ConcurrentBus
import Testing

// README.md's "Using the bus" example is Examples/ReadmeExample/main.swift, checked to be
// identical and run by Scripts/check-readme-example.sh. This test holds the values its
// comments promise.

/// The README's UART model: a range device.
final class UART: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { offset == 5 ? 0x60 : 0 }  // LSR: ready
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

@Test("the README example's comments say what the bus does")
func readmeExample() async throws {
  let pio = IOBus(space: .portIO)
  let mmio = IOBus()
  let uart = try pio.register(UART(), base: 0x3F8, length: 8)
  let window = try mmio.register(UART(), base: 0xFEB0_0000, length: 0x200)
  let queues = try (0..<4).map { _ in try EventFD() }
  let notifiers = try mmio.update { tx in
    try queues.enumerated().map { index, eventFD in
      try tx.registerEventFD(eventFD, address: 0xFEB0_0050, size: 4, match: .value(UInt64(index)))
    }
  }

  #expect(pio.read(address: 0x3FD, size: 1) == 0x60)
  #expect(mmio.write(address: 0xFEB0_0050, size: 4, value: 2) == .claimed(notifiers[2].id))
  #expect(queues[2].drain() == 1)
  #expect(mmio.write(address: 0xFEB0_0050, size: 4, value: 9) == .claimed(window.id))
  #expect(mmio.write(address: .max, size: 8, value: 0) == .unclaimed)

  do {
    _ = try pio.register(UART(), base: 0x3FF, length: 2)
    Issue.record("the overlapping registration was accepted")
  } catch {
    #expect(error == .rangesOverlap(.registered(uart), .new(.range(base: 0x3FF, length: 2))))
    #expect("\(error)" == "rangesOverlap(registration #1 [0x3f8, +0x8), new [0x3ff, +0x2))")
  }

  let bar = try mmio.register(UART(), base: 0xC000_0000, length: 0x1000)
  let movedBar = try mmio.move(bar, to: 0xD000_0000)
  #expect(mmio.write(address: 0xC000_0000, size: 4, value: 0) == .unclaimed)
  #expect(mmio.write(address: 0xD000_0000, size: 4, value: 0) == .claimed(movedBar.id))

  try pio.unregister(uart)
  #expect(pio.write(address: 0x3F8, size: 1, value: 0x41) == .unclaimed)

  let released = ReleaseCounter()
  try mmio.unregister(notifiers[0]) { released.add(1) }
  try await mmio.unregisterAndAwaitRelease(notifiers[1])
  #expect(mmio.registrations.count == 4)
  MembRCU.barrier()
  #expect(released.count == 1)
}
