import ConcurrentBus
import Foundation
import KVM
import StressKit
import Synchronization
import Testing
import VhostUser

/// The front end against a real `qemu-storage-daemon` 7.2: negotiation, the memory table,
/// a vring set up, requests through a kick on the bus, a kick switch, a back end's death.
@Suite(.enabled(if: daemonMissingReason == nil, "qemu-storage-daemon is not installed"))
struct ProtocolTests {
  let imageSize = 1 << 20

  @Test func negotiationReadsTheDevice() throws {
    let daemon = try StorageDaemon(imageSize: imageSize, queues: 2)
    let frontend = try VhostUserFrontend(
      path: daemon.socketPath, offering: VhostUserFeature.blockFlush)
    #expect(frontend.features & VhostUserFeature.version1 != 0)
    #expect(frontend.features & VhostUserFeature.protocolFeatures != 0)
    #expect(frontend.acknowledgesRequests)
    #expect(frontend.queueCount == 2)
    let configuration = try #require(frontend.configuration)
    let capacity = configuration.prefix(8).enumerated().reduce(UInt64(0)) {
      $0 | UInt64($1.element) << (8 * $1.offset)
    }
    #expect(capacity == UInt64(imageSize / 512))
  }

  @Test func writeReadFlushThroughABusKick() throws {
    let daemon = try StorageDaemon(imageSize: imageSize, queues: 1)
    let frontend = try VhostUserFrontend(
      path: daemon.socketPath, offering: VhostUserFeature.blockFlush)
    let memory = try shareableMemory()
    try frontend.setMemoryTable([memory.region])
    let bus = IOBus()
    let layout = try SplitQueueLayout(base: memory.guestPhysicalAddress, size: 16)
    let calls = CallCounter()
    let device = try VirtioBlockDevice(
      frontend: frontend, notifier: BusKickNotifier(bus: bus), memory: memory.window,
      layouts: [layout], notifyAddresses: [0xD000_0050], allowsNotify: { _, _ in false },
      interrupt: { _, result, _ in calls.record(result) })
    defer { device.close() }
    try device.start(queue: 0)
    var driver = HostDriver(
      memory: memory, layout: layout, buffers: memory.guestPhysicalAddress + 0x4000)
    let pattern = (0..<1024).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }

    driver.submit(type: VirtioBlock.requestOut, sector: 8, bytes: 1024, data: pattern)
    #expect(bus.write(address: 0xD000_0050, size: 4, value: 0) != .unclaimed)
    #expect(driver.waitForCompletion())
    #expect(driver.status(bytes: 1024) == VirtioBlock.statusOK)

    try device.queues[0].switchKick()
    driver.submit(type: VirtioBlock.requestIn, sector: 8, bytes: 1024)
    #expect(bus.write(address: 0xD000_0050, size: 4, value: 0) != .unclaimed)
    #expect(driver.waitForCompletion())
    #expect(driver.status(bytes: 1024) == VirtioBlock.statusOK)
    #expect(driver.data(bytes: 1024) == pattern)

    driver.submit(type: VirtioBlock.requestFlush, sector: 0, bytes: 0)
    #expect(bus.write(address: 0xD000_0050, size: 4, value: 0) != .unclaimed)
    #expect(driver.waitForCompletion())
    #expect(driver.status(bytes: 0) == VirtioBlock.statusOK)
    #expect(daemon.readImage(offset: 8 * 512, count: 1024) == pattern)
    #expect(calls.waitForCompletions(3))
    #expect(calls.errors == 0)
  }

  @Test func aDeadBackEndIsAnErrorNotAHang() throws {
    let daemon = try StorageDaemon(imageSize: imageSize, queues: 1)
    let frontend = try VhostUserFrontend(
      path: daemon.socketPath, offering: VhostUserFeature.blockFlush, replyTimeout: .seconds(2))
    daemon.kill()
    usleep(100_000)
    #expect(throws: VhostUserError.self) { try frontend.setVringSize(queue: 0, size: 16) }
    // After the first failure the connection refuses at once, saying why.
    #expect {
      try frontend.setVringBase(queue: 0, index: 0)
    } throws: { error in
      guard case .connectionBroken = error as? VhostUserError else { return false }
      return true
    }
  }

  @Test func aMissingSocketIsAConnectError() {
    #expect {
      _ = try VhostUserFrontend(path: "/nonexistent/vhost.sock", offering: 0)
    } throws: { error in
      guard case .connect = error as? VhostUserError else { return false }
      return true
    }
  }
}

/// Counts completions the device's call thread reports.
final class CallCounter: Sendable {
  private let state = Mutex<(completions: Int, errors: Int)>((0, 0))

  func record(_ result: Result<[UsedRingCompletion], UsedRingError>) {
    state.withLock { state in
      switch result {
      case .success(let completions): state.completions += completions.count
      case .failure: state.errors += 1
      }
    }
  }

  var errors: Int { state.withLock { $0.errors } }

  func waitForCompletions(_ count: Int) -> Bool {
    let deadline = Date().addingTimeInterval(5)
    while state.withLock({ $0.completions }) < count {
      guard Date() < deadline else { return false }
      usleep(1000)
    }
    return true
  }
}
