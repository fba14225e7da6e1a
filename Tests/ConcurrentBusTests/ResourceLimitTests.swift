import ConcurrentBus
import Foundation
import Glibc
import RCU
import Synchronization
import Testing

/// What happens when something runs out: descriptors, table size, registration churn.
/// Every limit must surface as a typed error, never a crash, and nothing may leak.
@Suite("Resource limits", .serialized)
struct ResourceLimitTests {
  static let environment = ProcessInfo.processInfo.environment

  /// The descriptor part lowers RLIMIT_NOFILE, which is process-wide: done in a child copy of
  /// this test binary that runs only this test, so parallel tests here never starve.
  @Test("eventfd creation at the descriptor limit is a typed error; nothing leaks")
  func descriptorLimit() throws {
    if Self.environment["CONCURRENTBUS_FD_LIMIT_CHILD"] == "1" {
      try exhaustDescriptors()
      return
    }
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    child.arguments = [
      "--testing-library", "swift-testing", "--filter", "ResourceLimitTests/descriptorLimit",
    ]
    var environment = Self.environment
    environment["CONCURRENTBUS_FD_LIMIT_CHILD"] = "1"
    child.environment = environment
    let output = Pipe()
    child.standardOutput = output
    child.standardError = output
    try child.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    child.waitUntilExit()
    #expect(child.terminationStatus == 0, "child run failed:\n\(text)")
    #expect(text.contains("Test run with 1 test"), "child did not run exactly this test:\n\(text)")
    for line in text.split(separator: "\n") where line.hasPrefix("resource-limits:") { print(line) }
  }

  /// Runs in the child: fills the descriptor table with eventfds up to a lowered limit.
  func exhaustDescriptors() throws {
    var saved = rlimit()
    #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) == 0)
    let openBefore = openDescriptorCount()
    var lowered = saved
    lowered.rlim_cur = rlim_t(openBefore + 200)
    #expect(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0)
    defer { _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) }

    var eventFDs: [EventFD] = []
    var failure: EventFDError?
    while failure == nil, eventFDs.count < 10_000 {
      do throws(EventFDError) {
        eventFDs.append(try EventFD())
      } catch {
        failure = error
      }
    }
    #expect(failure?.operation == .create)
    #expect(failure?.errno.rawValue == EMFILE)
    #expect(eventFDs.count > 100)
    print(
      "resource-limits: EMFILE after \(eventFDs.count) eventfds (limit \(lowered.rlim_cur), \(openBefore) open before)"
    )

    try registrationsAtTheLimitChangeNothing(eventFDs)

    // Every descriptor we got still works on a bus, all registered in one batch.
    let bus = IOBus()
    let registrations = try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try eventFDs.enumerated().map { (index, eventFD) throws(IOBusError) in
        try tx.registerEventFD(eventFD, address: 0x1000 + UInt64(index) * 4, size: 4, match: .any)
      }
    }
    for (index, registration) in registrations.enumerated() {
      #expect(
        bus.write(address: 0x1000 + UInt64(index) * 4, size: 4, value: 7)
          == .claimed(registration.id))
      #expect(eventFDs[index].drain() == 1)
    }
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for registration in registrations.reversed() { try tx.unregister(registration) }
    }
    eventFDs = []
    MembRCU.barrier()
    #expect(bus.retiredSnapshots == 0)
    // Every eventfd was closed once the bus and we let go: the limit has room again.
    #expect(openDescriptorCount() == openBefore)
    _ = try EventFD()
  }

  /// With no descriptor left: registering an eventfd or a ring needs none and works; what
  /// does need one (a consumer's signal thread, a poller) fails with a typed error and
  /// leaves the ring and the bus as they were; a batch that fails registers nothing.
  func registrationsAtTheLimitChangeNothing(_ eventFDs: [EventFD]) throws {
    let bus = IOBus()
    let threadsBefore = threadCount()
    let openBefore = openDescriptorCount()
    let signal = try bus.registerEventFD(eventFDs[0], address: 0x10, size: 4, match: .any)
    let ring = try bus.registerRing(
      address: 0x20, size: 4, match: .any, capacity: 8, wakeup: eventFDs[1])
    #expect(bus.write(address: 0x10, size: 4, value: 1) == .claimed(signal.id))
    #expect(bus.write(address: 0x20, size: 4, value: 2) == .claimed(ring.registration.id))

    #expect(throws: EventFDError(.create, .tooManyOpenFiles)) { _ = try ring.entries() }
    #expect(throws: EventFDError(.create, .tooManyOpenFiles)) { _ = try eventFDs[2].signals() }
    #expect(throws: EventFDError(.epollCreate, .tooManyOpenFiles)) { _ = try EventPoller() }
    #expect(threadCount() == threadsBefore, "no signal thread was left behind")
    #expect(openDescriptorCount() == openBefore)
    // The ring is as it was: registered, its write kept, still drained by its one consumer.
    var entries: [RingEntry] = []
    #expect(ring.drain(into: &entries) == .open)
    #expect(entries.count == 1)
    #expect(bus.registrations.count == 2)

    // A batch that fails registers nothing, and the ring it made is finished at once.
    var made: ValueRing?
    #expect(throws: IOBusError.self) {
      try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
        made = try tx.registerRing(
          address: 0x30, size: 4, match: .any, capacity: 8, wakeup: eventFDs[3])
        _ = try tx.registerEventFD(eventFDs[4], address: 0x10, size: 4, match: .any)
      }
    }
    #expect(bus.registrations.count == 2)
    #expect(bus.write(address: 0x30, size: 4, value: 3) == .unclaimed)
    #expect(made?.drain(into: &entries) == .finished)

    try bus.unregister(signal)
    try bus.unregister(ring.registration)
    #expect(ring.drain(into: &entries) == .finished)
    MembRCU.barrier()
    #expect(bus.retiredSnapshots == 0)
    for eventFD in eventFDs.prefix(5) { _ = eventFD.drain() }  // as the caller found them
  }

  @Test("100,000 registrations in one batch: one publish, every address dispatches, all released")
  func hundredThousandRegistrations() throws {
    let count = 100_000
    let released = Counter()
    let bus = IOBus()
    let start = ContinuousClock.now
    // Half ranges, half value-matched entries (in a separate window, so none shadows a range).
    let registrations = try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try (0..<count).map { (index) throws(IOBusError) in
        let device = ReleaseCountingDevice(released)
        return index.isMultiple(of: 2)
          ? try tx.register(device, base: UInt64(index) * 16, length: 16)
          : try tx.register(
            device, address: 0x1_0000_0000 + UInt64(index) * 8, size: 4,
            match: .value(UInt64(index)))
      }
    }
    let registered = ContinuousClock.now
    #expect(bus.publishes == 1)
    #expect(bus.registrations.count == count)
    var mismatches = 0
    for (index, registration) in registrations.enumerated() {
      let address =
        index.isMultiple(of: 2) ? UInt64(index) * 16 + 4 : 0x1_0000_0000 + UInt64(index) * 8
      if bus.write(address: address, size: 4, value: UInt64(index)) != .claimed(registration.id) {
        mismatches += 1
      }
      if !index.isMultiple(of: 2),
        bus.write(address: address, size: 4, value: UInt64(index) + 1) != .unclaimed
      {
        mismatches += 1
      }
    }
    #expect(mismatches == 0)
    let dispatched = ContinuousClock.now
    // In reverse order: each removal is then the cheap end of the sorted arrays.
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for registration in registrations.reversed() { try tx.unregister(registration) }
    }
    let unregistered = ContinuousClock.now
    #expect(bus.registrations.isEmpty)
    #expect(released.value == count, "every device released after the batch's grace period")
    MembRCU.barrier()
    #expect(bus.retiredSnapshots == 0)
    print(
      "resource-limits: 100k registrations: register \(registered - start), dispatch \(dispatched - registered), unregister \(unregistered - dispatched)"
    )
  }

  /// CONCURRENTBUS_CYCLES overrides the count (Scripts/limits.sh runs 1,000,000 in release,
  /// with this suite alone in the process, which is when the RSS bound is checked: in the
  /// full suite other tests allocate at the same time, and the exact counters suffice).
  @Test("register/unregister cycles: no leak of devices, snapshots or memory")
  func registerUnregisterCycles() throws {
    let override = Self.environment["CONCURRENTBUS_CYCLES"].flatMap { Int($0) }
    let cycles = override ?? 100_000
    let released = Counter()
    let bus = IOBus()
    let start = ContinuousClock.now
    var current = try bus.register(ReleaseCountingDevice(released), base: 0x1000, length: 8)
    var rss: [Int] = []
    for cycle in 1..<cycles {
      // One batch per cycle (unregister the last device, register the next), reclaimed in
      // the background: one publish and no blocking grace period per cycle.
      current = try bus.update(reclaim: .deferred({})) {
        (tx: inout IOBusTransaction) throws(IOBusError) in
        try tx.unregister(current)
        return try tx.register(
          ReleaseCountingDevice(released), base: 0x1000 + UInt64(cycle % 64) * 8, length: 8)
      }
      // Now and then let the callback thread catch up, as a VMM's hotplug rate would: the
      // backlog is memory in use, not a leak. RSS is sampled at each tenth.
      if cycle.isMultiple(of: 10_000) { MembRCU.barrier() }
      if cycle.isMultiple(of: max(cycles / 10, 1)) { rss.append(residentBytes()) }
    }
    try bus.unregister(current)
    MembRCU.barrier()
    rss.append(residentBytes())
    let elapsed = ContinuousClock.now - start
    #expect(released.value == cycles)
    #expect(bus.retiredSnapshots == 0)
    #expect(bus.publishes == UInt64(cycles + 1))
    let first = rss.first ?? 0
    let last = rss.last ?? 0
    if override != nil {
      // Flat after the first tenth: within 10% (and 4 MiB of allocator slack).
      #expect(last <= first + first / 10 + 4 << 20, "RSS grew from \(first) to \(last)")
    }
    print(
      "resource-limits: \(cycles) cycles in \(elapsed), RSS after the first tenth \(first >> 20) MiB, at end \(last >> 20) MiB (tenths: \(rss.map { $0 >> 20 }))"
    )
  }
}

/// A device that counts its own deinit, to prove the bus let go of it.
final class ReleaseCountingDevice: IODevice {
  let released: Counter

  init(_ released: Counter) { self.released = released }

  deinit { released.increment() }

  func read(offset: UInt64, size: Int) -> UInt64? { offset }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

/// Threads of this process.
func threadCount() -> Int {
  (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}

/// Open descriptors of this process.
func openDescriptorCount() -> Int {
  (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// Resident set size of this process, in bytes.
func residentBytes() -> Int {
  guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else {
    return 0
  }
  let fields = statm.split(separator: " ")
  return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}
