import ConcurrentBus

/// A UART model: a range device.
final class UART: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { offset == 5 ? 0x60 : 0 }  // LSR: ready
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

// One bus per address space.
let pio = IOBus(space: .portIO)  // ports 0...0xFFFF
let mmio = IOBus()  // 64-bit guest-physical addresses

// A range device: every access of 1 to 8 bytes inside [0x3F8, 0x400).
let uart = try pio.register(UART(), base: 0x3F8, length: 8)

// virtio-mmio: the device model takes its window; each queue's notifier is an eventfd
// that claims a write to QueueNotify (offset 0x50) by its value, the queue index.
let window = try mmio.register(UART(), base: 0xFEB0_0000, length: 0x200)
let queues = try (0..<4).map { _ in try EventFD() }
let notifiers = try mmio.update { tx in
  // All four in one publish; registering never waits for a grace period.
  try queues.enumerated().map { index, eventFD in
    try tx.registerEventFD(eventFD, address: 0xFEB0_0050, size: 4, match: .value(UInt64(index)))
  }
}

// vCPU threads: lock-free dispatch.
let status = pio.read(address: 0x3FD, size: 1)  // 0x60
let kick = mmio.write(address: 0xFEB0_0050, size: 4, value: 2)  // .claimed(notifiers[2].id)
let signals = queues[2].drain()  // 1
let miss = mmio.write(address: 0xFEB0_0050, size: 4, value: 9)  // .claimed(window.id)
let hostile = mmio.write(address: .max, size: 8, value: 0)  // .unclaimed: no crash

// Mistakes are typed errors and change nothing.
do {
  _ = try pio.register(UART(), base: 0x3FF, length: 2)
} catch {
  // rangesOverlap(registration #1 [0x3f8, +0x8), new [0x3ff, +0x2))
  print("refused: \(error)")
}

// A PCI BAR the guest moved: one publish, so every access finds the device at the old
// base or the new one. Like register, allowed from inside a device callback.
let bar = try mmio.register(UART(), base: 0xC000_0000, length: 0x1000)
let movedBar = try mmio.move(bar, to: 0xD000_0000)

// Hot-unplug: returns after a grace period, when no vCPU can be inside the device and
// the bus no longer references it.
try pio.unregister(uart)

// Or without waiting (allowed from a device callback): the closure runs once the bus
// has released the device.
try mmio.unregister(notifiers[0]) { print("queue 0 notifier released") }

// In async code, suspend instead of blocking a thread.
try await mmio.unregisterAndAwaitRelease(notifiers[1])
