import ConcurrentBus
import Foundation
import KVM
import StressKit
import Testing
import VhostUser

/// The queue logic of a kick switch against a real back end: a kick that lands on the old
/// eventfd after the back end stopped watching it completes only because the switch reads
/// the old eventfd afterwards and passes it on.
@Suite(.enabled(if: daemonMissingReason == nil, "qemu-storage-daemon is not installed"))
struct KickSwitchTests {
  /// A device with one running queue whose notifier is on `bus`.
  struct Rig {
    let daemon: StorageDaemon
    let memory: GuestMemory
    let bus = IOBus()
    let device: VirtioBlockDevice<BusKickNotifier<MembRCU>>
    var driver: HostDriver

    init() throws {
      daemon = try StorageDaemon(imageSize: 1 << 20, queues: 1)
      let frontend = try VhostUserFrontend(
        path: daemon.socketPath, offering: VhostUserFeature.blockFlush)
      memory = try shareableMemory()
      try frontend.setMemoryTable([memory.region])
      let layout = try SplitQueueLayout(base: memory.guestPhysicalAddress, size: 16)
      device = try VirtioBlockDevice(
        frontend: frontend, notifier: BusKickNotifier(bus: bus), memory: memory.window,
        layouts: [layout], notifyAddresses: [0xD000_0050], allowsNotify: { _, _ in false },
        interrupt: { _, _, _ in })
      try device.start(queue: 0)
      driver = HostDriver(
        memory: memory, layout: layout, buffers: memory.guestPhysicalAddress + 0x4000)
    }

    var queue: VirtioQueue<BusKickNotifier<MembRCU>> { device.queues[0] }
  }

  /// Switches the kick the way `order` says, with a guest kick landing on the old eventfd
  /// between `SET_VRING_KICK` and the notifier switch; returns whether the request completed.
  func kickLandsOnTheOldEventFD(renotify: Bool) throws -> Bool {
    var rig = try Rig()
    defer { rig.device.close() }
    rig.driver.submit(type: VirtioBlock.requestFlush, sector: 0, bytes: 0)
    let bus = rig.bus
    let queue = rig.queue
    try queue.withKickSwitch { (context) throws(VirtioQueueError) in
      let old = context.kick!
      let new = try context.makeEventFD()
      try context.setBackendKick(new)
      // The guest kicks now: the bus still dispatches to the old eventfd.
      #expect(bus.write(address: 0xD000_0050, size: 4, value: 0) != .unclaimed)
      try context.rebind(to: new) { if renotify { queue.renotify(from: old) } }
    }
    return rig.driver.waitForCompletion(seconds: renotify ? 5 : 0.3)
  }

  @Test func aKickOnTheOldEventFDIsPassedOn() throws {
    #expect(try kickLandsOnTheOldEventFD(renotify: true))
  }

  /// The same switch without the re-notify (the `drop-kick` fault): the request hangs.
  @Test func withoutTheReNotifyTheKickIsLost() throws {
    #expect(try !kickLandsOnTheOldEventFD(renotify: false))
  }

  @Test func stopAndStartKeepTheRingWhereItWas() throws {
    var rig = try Rig()
    defer { rig.device.close() }
    for round in 0..<3 {
      rig.driver.submit(type: VirtioBlock.requestFlush, sector: 0, bytes: 0)
      #expect(rig.bus.write(address: 0xD000_0050, size: 4, value: 0) != .unclaimed)
      #expect(rig.driver.waitForCompletion(), "round \(round)")
      try rig.device.stop(queue: 0)
      #expect(!rig.queue.isRunning)
      try rig.device.start(queue: 0)
    }
    #expect(rig.queue.statistics.stops == 3)
    #expect(rig.queue.statistics.starts == 4)
    #expect(throws: VirtioQueueError.self) { try rig.device.start(queue: 0) }
  }

  @Test func aMovedNotifyAddressTakesTheKicks() throws {
    var rig = try Rig()
    defer { rig.device.close() }
    try rig.queue.moveNotify(to: 0xD010_0010)
    rig.driver.submit(type: VirtioBlock.requestFlush, sector: 0, bytes: 0)
    #expect(rig.bus.write(address: 0xD000_0050, size: 4, value: 0) == .unclaimed)
    #expect(rig.bus.write(address: 0xD010_0010, size: 4, value: 0) != .unclaimed)
    #expect(rig.driver.waitForCompletion())
  }
}
