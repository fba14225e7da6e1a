import ConcurrentBus
import RCU
import Synchronization
import Testing

/// A virtio-mmio device registers its queue notifiers (ioeventfds) from inside the guest's
/// DRIVER_OK status write and removes them on reset, as a real VMM must.
@Suite("virtio notifiers from the device's own status write", .serialized)
struct VirtioNotifierTests {
  @Test("DRIVER_OK registers the notifiers inside the guest's write; reset removes them")
  func driverOKAndReset() throws {
    let mmio = IOBus()
    let device = try VirtioDevice(bus: mmio, queues: 4)
    let window = try mmio.register(device, base: VirtioDevice.base, length: 0x200)
    #expect(device.notify(queue: 2) == .claimed(window.id), "notifiers are off before DRIVER_OK")

    #expect(device.setStatus(VirtioDevice.driverOK | 0b111) == .claimed(window.id))
    let notifiers = device.liveNotifiers
    try #require(notifiers.count == 4 && device.failures.isEmpty, "\(device.failures)")
    for queue in 0..<4 {
      #expect(device.notify(queue: queue) == .claimed(notifiers[queue].id))
      #expect(device.queues[queue].drain() == 1)
    }
    #expect(device.setStatus(VirtioDevice.driverOK | 0b111) == .claimed(window.id))
    #expect(mmio.registrations.count == 5, "a second DRIVER_OK registers nothing more")

    #expect(device.setStatus(0) == .claimed(window.id))
    #expect(mmio.registrations == [window] && device.failures.isEmpty)
    #expect(device.notify(queue: 2) == .claimed(window.id), "reset turned the notifiers off")
    #expect(mmio.gracePeriodWaits == 0)
    MembRCU.barrier()
    #expect(device.releasedNotifiers.count == 4)
    try mmio.unregister(window)  // The device holds the bus: break the cycle.
  }

  @Test("vCPUs writing QueueNotify while the driver toggles DRIVER_OK lose no write")
  func noWriteLostWhileToggling() throws {
    let mmio = IOBus()
    let device = try VirtioDevice(bus: mmio, queues: 4)
    let window = try mmio.register(device, base: VirtioDevice.base, length: 0x200)
    let writesPerVCPU = 50_000
    let counters = VirtioRunCounters()
    onThreads(3) { index in
      if index == 0 {
        while counters.vcpusDone.load(ordering: .acquiring) < 2 {
          let on = counters.toggles.add(1, ordering: .relaxed).newValue % 2 == 1
          _ = device.setStatus(on ? VirtioDevice.driverOK : 0)
        }
      } else {
        MembRCU.registerCurrentThread()
        defer { MembRCU.unregisterCurrentThread() }
        for write in 0..<writesPerVCPU {
          if case .claimed(let id) = device.notify(queue: write % 4), id != window.id {
            counters.notifierClaims.add(1, ordering: .relaxed)
          }
        }
        counters.vcpusDone.add(1, ordering: .releasing)
      }
    }
    _ = device.setStatus(0)
    let drained = device.queues.reduce(0) { $0 + Int($1.drain()) }
    let byModel = device.notifiesSeenByModel.load(ordering: .relaxed)
    #expect(drained + byModel == 2 * writesPerVCPU, "every QueueNotify write reached a handler")
    #expect(drained == counters.notifierClaims.load(ordering: .relaxed), "one signal per claim")
    #expect(counters.toggles.load(ordering: .relaxed) >= 2 && device.failures.isEmpty)
    MembRCU.barrier()
    #expect(mmio.retiredSnapshots == 0)
    try mmio.unregister(window)
  }
}

/// What the threads of the toggling test count.
final class VirtioRunCounters: Sendable {
  let toggles = Atomic<Int>(0)
  let vcpusDone = Atomic<Int>(0)
  let notifierClaims = Atomic<Int>(0)
}

/// A virtio-mmio device model: QueueNotify at 0x50, Status at 0x70.
final class VirtioDevice: IODevice {
  static let base: UInt64 = 0xFEB0_0000
  static let queueNotify: UInt64 = 0x50
  static let status: UInt64 = 0x70
  static let driverOK: UInt64 = 4

  let bus: IOBus<MembRCU>
  let queues: [EventFD]
  private let notifiers = Locked<[Registration]>([])
  private let errors = Locked<[String]>([])
  /// QueueNotify writes no notifier took (notifiers off): the model handles them itself.
  let notifiesSeenByModel = Atomic<Int>(0)
  let releasedNotifiers = ReleaseCounter()

  init(bus: IOBus<MembRCU>, queues: Int) throws {
    self.bus = bus
    self.queues = try (0..<queues).map { _ in try EventFD() }
  }

  var liveNotifiers: [Registration] { notifiers.value }
  var failures: [String] { errors.value }

  /// The guest's QueueNotify write for `queue`.
  func notify(queue: Int) -> DispatchResult {
    bus.write(address: Self.base + Self.queueNotify, size: 4, value: UInt64(queue))
  }

  /// The guest's Status write.
  func setStatus(_ value: UInt64) -> DispatchResult {
    bus.write(address: Self.base + Self.status, size: 4, value: value)
  }

  func read(offset: UInt64, size: Int) -> UInt64? { 0 }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    switch offset {
    case Self.queueNotify:
      notifiesSeenByModel.add(1, ordering: .relaxed)
    case Self.status where value & Self.driverOK != 0:
      notifiers.withLock { live in
        guard live.isEmpty else { return }
        live = record { try registerNotifiers() } ?? []
      }
    case Self.status where value == 0:
      let live = notifiers.withLock { live in
        defer { live = [] }
        return live
      }
      guard !live.isEmpty else { break }
      record {
        try bus.update(
          reclaim: .deferred({ [releasedNotifiers] in releasedNotifiers.add(live.count) })
        ) { tx in
          for registration in live { try tx.unregister(registration) }
        }
      }
    default:
      break
    }
    return true
  }

  /// All queues' notifiers in one publish, from inside the guest's write.
  private func registerNotifiers() throws -> [Registration] {
    try bus.update { tx in
      try queues.enumerated().map { queue, eventFD in
        try tx.registerEventFD(
          eventFD, address: Self.base + Self.queueNotify, size: 4, match: .value(UInt64(queue)))
      }
    }
  }

  @discardableResult
  private func record<T>(_ body: () throws -> T) -> T? {
    do {
      return try body()
    } catch {
      errors.withLock { $0.append("\(error)") }
      return nil
    }
  }
}

/// Counts devices a deferred unregister has released.
final class ReleaseCounter: Sendable {
  private let released = Atomic<Int>(0)

  func add(_ count: Int) { released.add(count, ordering: .relaxed) }

  var count: Int { released.load(ordering: .relaxed) }
}
