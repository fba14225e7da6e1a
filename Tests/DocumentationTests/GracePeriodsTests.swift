// The listings of GracePeriodsAndUnregister.md, and checks of each promise it states.

import ConcurrentBus
import Dispatch
import HostSupport
import Synchronization
import Testing

/// A device that reports when it is deinitialized, and can hold a vCPU inside its callback.
final class TrackedDevice: IODevice {
  let entered = DispatchSemaphore(value: 0)
  let proceed = DispatchSemaphore(value: 0)
  let parks: Bool
  private let onDeinit: @Sendable () -> Void

  init(parks: Bool = false, onDeinit: @escaping @Sendable () -> Void = {}) {
    self.parks = parks
    self.onDeinit = onDeinit
  }

  deinit { onDeinit() }

  func read(offset: UInt64, size: Int) -> UInt64? { 0 }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    if parks {
      entered.signal()
      proceed.wait()
    }
    return true
  }
}

/// A value threads share, for closures that outlive the test's scope.
final class Cell<Value: Sendable>: Sendable {
  private let storage: Mutex<Value>
  init(_ value: Value) { storage = Mutex(value) }
  var value: Value { storage.withLock { $0 } }
  func set(_ value: Value) { storage.withLock { $0 = value } }
  func update(_ body: (inout Value) -> Void) { storage.withLock { body(&$0) } }
}

/// Counts deinitializations, for devices the test no longer references.
final class ReleaseLog: Sendable {
  let count = Atomic<Int>(0)
  var value: Int { count.load(ordering: .acquiring) }
  func record() { count.add(1, ordering: .releasing) }
}

@Suite("Article: Grace periods and what unregister promises")
struct GracePeriodsTests {
  @Test("the four ways to unregister, as the article shows them")
  func unregisterForms() async throws {
    let mmio = IOBus()
    let log = ReleaseLog()
    let disk = try mmio.register(
      TrackedDevice { log.record() }, base: 0x1000_0000, length: 0x1000)
    let net = try mmio.register(TrackedDevice { log.record() }, base: 0x1000_1000, length: 0x1000)
    let console = try mmio.register(
      TrackedDevice { log.record() }, base: 0x1000_2000, length: 0x1000)
    let notifiers = try (0..<4).map { queue in
      try mmio.registerEventFD(
        EventFD(), address: 0x1000_3050, size: 4, match: .value(UInt64(queue)))
    }
    // listing: unregister-forms
    // Block until released: for a hotplug thread that tears the device down next.
    try mmio.unregister(disk)

    // Return at once; the closure runs on a reclaimer thread once the device is released.
    try mmio.unregister(net) { print("net released") }

    // Suspend until released, in async code.
    try await mmio.unregisterAndAwaitRelease(console)

    // Several at once: one publish, and one grace period for all of them.
    try mmio.update { tx in
      for notifier in notifiers { try tx.unregister(notifier) }
    }
    // end listing
    #expect(mmio.registrations.isEmpty)
    #expect(mmio.gracePeriodWaits == 2, "disk, then the batch: once each")
    MembRCU.barrier()
    #expect(log.value == 3)
  }

  @Test("a synchronous unregister returns after the device was released")
  func synchronousReleases() throws {
    let mmio = IOBus()
    let log = ReleaseLog()
    let registration = try mmio.register(TrackedDevice { log.record() }, base: 0, length: 8)
    #expect(log.value == 0)
    try mmio.unregister(registration)
    #expect(log.value == 1, "the bus still held the device when unregister returned")
  }

  @Test("a synchronous unregister waits for a vCPU still inside the device")
  func synchronousWaitsForReaders() throws {
    let mmio = IOBus()
    let device = TrackedDevice(parks: true)
    let registration = try mmio.register(device, base: 0, length: 8)
    let vcpu = try HostThread { _ = mmio.write(address: 0, size: 1, value: 0) }
    device.entered.wait()
    let returned = DispatchSemaphore(value: 0)
    let hotplug = try HostThread {
      try? mmio.unregister(registration)
      returned.signal()
    }
    let returnedEarly = returned.wait(timeout: .now() + 0.2) == .success
    #expect(!returnedEarly, "unregister returned while a vCPU was inside the device")
    device.proceed.signal()
    vcpu.join()
    hotplug.join()
    #expect(mmio.registrations.isEmpty && mmio.gracePeriodWaits == 1)
  }

  @Test(
    "whenReleased runs after the bus let go of the device, even for a batch that removes nothing")
  func deferredRelease() throws {
    let mmio = IOBus()
    let log = ReleaseLog()
    let registration = try mmio.register(TrackedDevice { log.record() }, base: 0, length: 8)
    let seenInClosure = Cell(-1)
    try mmio.unregister(registration) { seenInClosure.set(log.value) }
    let emptyBatchRan = Cell(false)
    try mmio.update(reclaim: .deferred({ emptyBatchRan.set(true) })) { _ in }
    MembRCU.barrier()
    #expect(seenInClosure.value == 1, "the device was still held when the closure ran")
    #expect(emptyBatchRan.value)
  }

  @Test("an unregister that throws never calls its closure")
  func failedDeferredNeverCalls() throws {
    let mmio = IOBus()
    let registration = try mmio.register(SerialPort(), base: 0, length: 8)
    try mmio.unregister(registration)
    let called = Cell(false)
    #expect(throws: IOBusError.unknownRegistration(registration)) {
      try mmio.unregister(registration) { called.set(true) }
    }
    MembRCU.barrier()
    #expect(!called.value)
  }

  @Test("a deferred work that blocks delays no other release; works may wait and register")
  func blockingWork() throws {
    let mmio = IOBus()
    let first = try mmio.register(SerialPort(), base: 0x1000, length: 8)
    let second = try mmio.register(SerialPort(), base: 0x2000, length: 8)
    let third = try mmio.register(SerialPort(), base: 0x3000, length: 8)
    let gate = DispatchSemaphore(value: 0)
    let secondReleased = DispatchSemaphore(value: 0)
    try mmio.unregister(first) { gate.wait() }
    try mmio.unregister(second) {
      // From a work: a synchronous unregister (a grace period) and a register.
      try? mmio.unregister(third)
      _ = try? mmio.register(SerialPort(), base: 0x4000, length: 8)
      secondReleased.signal()
    }
    let overtook = secondReleased.wait(timeout: .now() + 10) == .success
    gate.signal()
    MembRCU.barrier()
    #expect(overtook, "a blocked work held up another release")
    #expect(mmio.registrations.map(\.kind) == [.range(base: 0x4000, length: 8)])
  }

  @Test("replacing a device in one batch leaves no gap; the old one is released later")
  func replace() throws {
    let mmio = IOBus()
    let oldModel = try mmio.register(TrackedDevice(), base: 0x1000_0000, length: 0x1000)
    // listing: replace-deferred
    // Swap a device model: the new one takes the range in the same publish that removes the
    // old one, and the old one is let go of once no vCPU can be inside it.
    let replacement = try mmio.update(reclaim: .deferred({ print("old model released") })) {
      tx in
      try tx.unregister(oldModel)
      return try tx.register(SerialPort(), base: 0x1000_0000, length: 0x1000)
    }
    // end listing
    #expect(mmio.registrations == [replacement])
    #expect(mmio.read(address: 0x1000_0005, size: 1) == 0x60)
    #expect(mmio.publishes == 2 && mmio.gracePeriodWaits == 0)
  }

  @Test("on QSBR, a deferred work registers before it reads the bus")
  func qsbrDeferredWork() throws {
    let vcpuMMIO = IOBus(flavor: QSBRRCU.self)
    let notifier = try vcpuMMIO.registerEventFD(EventFD(), address: 0x50, size: 4, match: .any)
    _ = try vcpuMMIO.register(SerialPort(), base: 0x1000, length: 8)
    // listing: qsbr-deferred-work
    try vcpuMMIO.unregister(notifier) {
      // Reclaimer threads are not registered with any flavor: register to read a QSBR bus.
      QSBRRCU.registerCurrentThread()
      defer { QSBRRCU.unregisterCurrentThread() }
      print("still registered: \(vcpuMMIO.registrations.count)")  // 1
    }
    // end listing
    QSBRRCU.barrier()
    #expect(vcpuMMIO.retiredSnapshots == 0)
  }

  @Test("barrier: every deferred release has run, no snapshot outstanding")
  func barrier() throws {
    let mmio = IOBus()
    for base in stride(from: UInt64(0), to: 0x10000, by: 0x1000) {
      let registration = try mmio.register(SerialPort(), base: base, length: 8)
      try mmio.unregister(registration) {}
    }
    // listing: barrier-shutdown
    // At shutdown, or at the end of a test: wait for every deferred release, then check that
    // nothing leaked.
    MembRCU.barrier()
    let outstanding = mmio.retiredSnapshots  // 0
    // end listing
    #expect(outstanding == 0)
  }
}
