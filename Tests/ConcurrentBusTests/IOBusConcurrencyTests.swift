import ConcurrentBus
import Foundation
import RCU
import Synchronization
import Testing

/// A hot-plugged device that knows when its unregister has returned, and counts every entry
/// after that point as a grace-period violation.
final class PoisonableDevice: IODevice {
  private let poisoned = Atomic<Bool>(false)
  private let violations = Atomic<Int>(0)
  let released: Counter

  init(released: Counter) {
    self.released = released
  }

  deinit { released.increment() }

  func poison() { poisoned.store(true, ordering: .releasing) }

  var violationCount: Int { violations.load(ordering: .relaxed) }

  func read(offset: UInt64, size: Int) -> UInt64? {
    check()
    return 0
  }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    check()
    return true
  }

  private func check() {
    if poisoned.load(ordering: .acquiring) { violations.add(1, ordering: .relaxed) }
  }
}

final class Counter: Sendable {
  private let count = Atomic<Int>(0)
  func increment() { count.add(1, ordering: .relaxed) }
  var value: Int { count.load(ordering: .relaxed) }
}

@Suite("IOBus under concurrency")
struct IOBusConcurrencyTests {
  @Test(
    "no write to a stable device is lost and no device is entered after unregister",
    arguments: ["memb", "bp"])
  func churnWhileDispatching(flavor: String) throws {
    if flavor == "memb" {
      try churn(IOBus(flavor: MembRCU.self))
    } else {
      try churn(IOBus(flavor: BulletproofRCU.self))
    }
  }

  func churn<F: RCUFlavor>(_ bus: IOBus<F>) throws {
    let stableRange = RecordingDevice("stable range")
    let stableMatch = RecordingDevice("stable notifier")
    let range = try bus.register(stableRange, base: 0x1000, length: 0x100)
    let match = try bus.register(stableMatch, address: 0x2000, size: 4, match: .value(1))
    let vcpus = 2
    let writesPerVCPU = 100_000
    let lost = Atomic<Int>(0)
    let spurious = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let released = Counter()
    let created = Atomic<Int>(0)
    let poisonedDevices = Mutex<[PoisonableDevice]>([])

    onThreads(vcpus + 1) { index in
      if index == vcpus {
        // The hotplug thread: churn devices in the window 0x3000..<0x3400 until the vCPUs
        // finish, with every unregister form.
        var round = 0
        while done.load(ordering: .acquiring) < vcpus {
          round += 1
          let devices = (0..<4).map { _ in PoisonableDevice(released: released) }
          created.add(devices.count, ordering: .relaxed)
          do {
            let registrations = try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
              [
                try tx.register(devices[0], base: 0x3000, length: 0x100),
                try tx.register(devices[1], address: 0x3200, size: 4, match: .any),
                try tx.register(devices[2], base: 0x3300, length: 0x10),
                try tx.register(devices[3], address: 0x3200, size: 2, match: .value(7)),
              ]
            }
            try bus.unregister(registrations[0])
            devices[0].poison()
            try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
              try tx.unregister(registrations[1])
              try tx.unregister(registrations[3])
            }
            devices[1].poison()
            devices[3].poison()
            let device2 = devices[2]
            try bus.unregister(registrations[2]) { device2.poison() }
          } catch {
            Issue.record("churn round \(round): \(error)")
            return
          }
          poisonedDevices.withLock { $0 += devices }
        }
        return
      }
      F.registerCurrentThread()
      for i in 0..<writesPerVCPU {
        if bus.write(address: 0x1000 + UInt64(i % 0x100), size: 1, value: UInt64(i))
          != .claimed(range.id)
        {
          lost.add(1, ordering: .relaxed)
        }
        if bus.write(address: 0x2000, size: 4, value: 1) != .claimed(match.id) {
          lost.add(1, ordering: .relaxed)
        }
        if bus.write(address: 0x2000, size: 4, value: 2) != .unclaimed {
          spurious.add(1, ordering: .relaxed)
        }
        _ = bus.write(address: 0x3000 + UInt64(i % 0x400), size: 4, value: 7)
        _ = bus.write(address: 0x3200, size: 2, value: 7)
        _ = bus.read(address: 0x3300, size: 4)
      }
      F.unregisterCurrentThread()
      done.add(1, ordering: .releasing)
    }

    F.barrier()
    #expect(lost.load(ordering: .relaxed) == 0)
    #expect(spurious.load(ordering: .relaxed) == 0)
    #expect(stableRange.writeCount == vcpus * writesPerVCPU)
    #expect(stableMatch.writeCount == vcpus * writesPerVCPU)
    let entered = poisonedDevices.withLock { $0.reduce(0) { $0 + $1.violationCount } }
    #expect(entered == 0, "devices entered after their unregister returned")
    #expect(bus.retiredSnapshots == 0)
    poisonedDevices.withLock { $0 = [] }
    #expect(
      released.value == created.load(ordering: .relaxed),
      "the bus released every unregistered device")
    #expect(bus.registrations == [match, range])
  }

  @Test("a reader parked in a device keeps a synchronous unregister from returning")
  func parkedReaderBlocksUnregister() throws {
    let result = try parkReaderThenUnregister(poisonEarly: false)
    #expect(result.unregisterReturnedWhileInside == false)
    #expect(result.violations == 0)
  }

  @Test("the poison check catches an unregister that does not wait (the test can fail)")
  func poisonCheckCatchesEarlyReturn() throws {
    let result = try parkReaderThenUnregister(poisonEarly: true)
    #expect(result.violations == 1)
  }

  /// Parks a vCPU inside a device's write, unregisters the device from another thread, and
  /// reports whether the unregister returned while the vCPU was still inside. With
  /// `poisonEarly`, the device is poisoned as if unregister had returned at once (what a
  /// missing grace period looks like), to show the check notices.
  func parkReaderThenUnregister(poisonEarly: Bool) throws -> (
    unregisterReturnedWhileInside: Bool, violations: Int
  ) {
    let bus = IOBus()
    let parked = ParkingDevice()
    let registration = try bus.register(parked, base: 0x10, length: 4)
    let vcpu = Thread { _ = bus.write(address: 0x10, size: 4, value: 1) }
    vcpu.start()
    parked.entered.wait()
    let returned = DispatchSemaphore(value: 0)
    Thread {
      if poisonEarly {
        try? bus.unregister(registration) {}
      } else {
        try? bus.unregister(registration)
      }
      parked.poison()
      returned.signal()
    }.start()
    let returnedWhileInside = returned.wait(timeout: .now() + .milliseconds(200)) == .success
    parked.leave.signal()
    parked.left.wait()
    if !returnedWhileInside { returned.wait() }
    return (returnedWhileInside, parked.violations.load(ordering: .relaxed))
  }
}

/// A device whose write blocks until the test lets it go, then checks for poison.
final class ParkingDevice: IODevice {
  let entered = DispatchSemaphore(value: 0)
  let leave = DispatchSemaphore(value: 0)
  let left = DispatchSemaphore(value: 0)
  let violations = Atomic<Int>(0)
  private let poisoned = Atomic<Bool>(false)

  func poison() { poisoned.store(true, ordering: .releasing) }

  func read(offset: UInt64, size: Int) -> UInt64? { nil }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    entered.signal()
    leave.wait()
    if poisoned.load(ordering: .acquiring) { violations.add(1, ordering: .relaxed) }
    left.signal()
    return true
  }
}
