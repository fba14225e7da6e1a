import ConcurrentBus
import RCU
import Testing

@Suite("IOBus semantics")
struct IOBusSemanticsTests {
  @Test("a range device gets every access inside its range, at its offset")
  func rangeDispatch() throws {
    let bus = IOBus()
    let device = RecordingDevice("uart", readValue: 0x1234_5678)
    let registration = try bus.register(device, base: 0x3F8, length: 8)
    #expect(bus.write(address: 0x3FA, size: 1, value: 0x1FF) == .claimed(registration.id))
    let seen = try #require(device.lastWriteSeen)
    #expect(seen.offset == 2 && seen.size == 1 && seen.value == 0xFF)
    #expect(bus.read(address: 0x3F8, size: 2) == 0x5678)
    #expect(bus.write(address: 0x3F7, size: 1, value: 0) == .unclaimed)
    #expect(bus.write(address: 0x400, size: 1, value: 0) == .unclaimed)
    #expect(bus.write(address: 0x3FE, size: 4, value: 0) == .unclaimed, "straddles the end")
    #expect(bus.read(address: 0x3FF, size: 2) == nil)
  }

  @Test("a range may end exactly at 2^64")
  func rangeAtTopOfAddressSpace() throws {
    let bus = IOBus()
    let device = RecordingDevice("top")
    let registration = try bus.register(device, base: UInt64.max - 7, length: 8)
    #expect(bus.write(address: UInt64.max - 7, size: 8, value: 1) == .claimed(registration.id))
    #expect(bus.write(address: UInt64.max, size: 1, value: 1) == .claimed(registration.id))
    #expect(bus.write(address: UInt64.max, size: 2, value: 1) == .unclaimed, "wraps")
    #expect(throws: IOBusError.rangeWrapsAround(base: UInt64.max, length: 2)) {
      try bus.register(device, base: UInt64.max, length: 2)
    }
  }

  @Test(
    "hostile access sizes and addresses are unclaimed, never a crash",
    arguments: [Int.min, -8, -1, 0, 9, 16, 64, Int.max])
  func hostileSizes(size: Int) throws {
    let bus = IOBus()
    let device = RecordingDevice("everything")
    _ = try bus.register(device, base: 0, length: UInt64.max)
    _ = try bus.register(device, address: 0, size: 0, match: .any)
    for address in [0, 1, UInt64.max - 8, UInt64.max - 1, UInt64.max] {
      #expect(bus.write(address: address, size: size, value: .max) == .unclaimed)
      #expect(bus.read(address: address, size: size) == nil)
    }
    #expect(device.writeCount == 0 && device.readCount == 0)
  }

  @Test("value-matched entries claim writes by size and value, KVM-style")
  func valueMatch() throws {
    let bus = IOBus()
    let queue0 = RecordingDevice("queue 0")
    let queue1 = RecordingDevice("queue 1")
    let any2 = RecordingDevice("any value, size 2")
    let r0 = try bus.register(queue0, address: 0x50, size: 4, match: .value(0))
    let r1 = try bus.register(queue1, address: 0x50, size: 4, match: .value(1))
    let r2 = try bus.register(any2, address: 0x50, size: 2, match: .any)
    #expect(bus.write(address: 0x50, size: 4, value: 1) == .claimed(r1.id))
    #expect(bus.write(address: 0x50, size: 4, value: 0) == .claimed(r0.id))
    #expect(bus.write(address: 0x50, size: 4, value: 2) == .unclaimed)
    #expect(bus.write(address: 0x50, size: 2, value: 0xFFFF) == .claimed(r2.id))
    #expect(bus.write(address: 0x50, size: 1, value: 0) == .unclaimed)
    #expect(bus.write(address: 0x52, size: 4, value: 0) == .unclaimed, "address must be equal")
    #expect(bus.read(address: 0x50, size: 4) == nil, "value-matched entries never see reads")
    #expect(queue0.writeCount == 1 && queue1.writeCount == 1 && any2.writeCount == 1)
  }

  @Test("size 0 matches any access size; the value is compared on the access's bytes")
  func anySize() throws {
    let bus = IOBus()
    let device = RecordingDevice("doorbell")
    let registration = try bus.register(device, address: 0x10, size: 0, match: .any)
    for size in [1, 2, 4, 8] {
      #expect(bus.write(address: 0x10, size: size, value: 5) == .claimed(registration.id))
    }
    let narrow = try bus.register(
      RecordingDevice("byte"), address: 0x20, size: 1, match: .value(0x7F))
    #expect(bus.write(address: 0x20, size: 1, value: 0x1_7F) == .claimed(narrow.id), "truncated")
  }

  @Test("value-matched entries go before the range that covers them; misses fall through")
  func fallThroughToRange() throws {
    let bus = IOBus()
    let model = RecordingDevice("virtio device model")
    let notify = RecordingDevice("queue 3 notifier")
    let window = try bus.register(model, base: 0x1000, length: 0x1000)
    let notifier = try bus.register(notify, address: 0x1050, size: 2, match: .value(3))
    #expect(bus.write(address: 0x1050, size: 2, value: 3) == .claimed(notifier.id))
    #expect(bus.write(address: 0x1050, size: 2, value: 4) == .claimed(window.id))
    #expect(bus.write(address: 0x1050, size: 4, value: 3) == .claimed(window.id))
    #expect(notify.writeCount == 1 && model.writeCount == 2)
    #expect(model.lastWriteSeen?.offset == 0x50)
  }

  @Test("a declining device passes the write to the next entry, in registration order")
  func decliningDevicePassesOn() throws {
    let bus = IOBus()
    let model = RecordingDevice("model")
    let declining = RecordingDevice("declines", acceptsWrites: false)
    let window = try bus.register(model, base: 0, length: 0x100)
    let first = try bus.register(declining, address: 0x40, size: 4, match: .any)
    let second = try bus.register(RecordingDevice("size 2"), address: 0x40, size: 2, match: .any)
    #expect(bus.registrations.map(\.id) == [first.id, second.id, window.id])
    #expect(bus.write(address: 0x40, size: 4, value: 9) == .claimed(window.id))
    #expect(declining.writeCount == 1)
    let decliningWindow = RecordingDevice("declining window", acceptsWrites: false)
    let other = try bus.register(decliningWindow, base: 0x100, length: 0x100)
    _ = other
    #expect(bus.write(address: 0x180, size: 4, value: 9) == .unclaimed)
    #expect(decliningWindow.writeCount == 1)
  }

  @Test("unregistered entries are gone, and a second unregister is a typed error")
  func unregister() throws {
    let bus = IOBus()
    let device = RecordingDevice("nic")
    let registration = try bus.register(device, base: 0x2000, length: 0x10)
    try bus.unregister(registration)
    #expect(bus.write(address: 0x2000, size: 4, value: 1) == .unclaimed)
    #expect(throws: IOBusError.unknownRegistration(registration)) {
      try bus.unregister(registration)
    }
    #expect(bus.registrations.isEmpty)
    let forged = Registration(
      id: RegistrationID(rawValue: 99), kind: .range(base: 0, length: 1), bus: bus.identity)
    #expect(throws: IOBusError.unknownRegistration(forged)) { try bus.unregister(forged) }
  }

  @Test("the asynchronous and callback unregisters release the device after a grace period")
  func nonBlockingUnregister() async throws {
    let bus = IOBus()
    weak var weakDevice: RecordingDevice?
    let registration: Registration
    do {
      let device = RecordingDevice("hotplugged")
      weakDevice = device
      registration = try bus.register(device, base: 0x10, length: 0x10)
    }
    try await bus.unregisterAndAwaitRelease(registration)
    #expect(weakDevice == nil, "the bus let go of the device before resuming")
    await #expect(throws: IOBusError.unknownRegistration(registration)) {
      try await bus.unregisterAndAwaitRelease(registration)
    }
    let second = try bus.register(RecordingDevice("second"), base: 0x10, length: 0x10)
    await withCheckedContinuation { continuation in
      do {
        try bus.unregister(second) { continuation.resume() }
      } catch {
        Issue.record("unexpected \(error)")
        continuation.resume()
      }
    }
    MembRCU.barrier()
    #expect(bus.retiredSnapshots == 0)
  }
}
