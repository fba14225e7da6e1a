// The listings of GettingStarted.md, in the article's order. Scripts/check_doc_listings.py
// checks that each region below is, verbatim, the article's listing of that name.

import ConcurrentBus
import Synchronization
import Testing

// listing: serial-port
/// A 16550-style serial port, reduced to what a guest's boot log needs.
final class SerialPort: IODevice {
  /// The bytes the guest transmitted.
  let transmitted = Mutex<[UInt8]>([])

  func read(offset: UInt64, size: Int) -> UInt64? {
    offset == 5 ? 0x60 : 0  // line status register: ready to transmit
  }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    if offset == 0 { transmitted.withLock { $0.append(UInt8(truncatingIfNeeded: value)) } }
    return true  // the whole range is this device's: claim every write
  }
}
// end listing

@Suite("Article: Getting started")
struct GettingStartedTests {
  @Test("the article's walk-through does what its comments say")
  func walkThrough() async throws {
    // listing: getting-started-buses
    // One bus per address space.
    let pio = IOBus(space: .portIO)  // x86 ports 0...0xFFFF
    let mmio = IOBus()  // 64-bit guest-physical addresses

    // COM1: every access of 1 to 8 bytes inside ports [0x3F8, 0x400).
    let serial = SerialPort()
    let com1 = try pio.register(serial, base: 0x3F8, length: 8)
    // end listing
    #expect(pio.registrations == [com1])
    #expect(pio.space == .portIO && mmio.space == .mmio)

    // listing: getting-started-ioeventfd
    // A virtio-mmio device's two queues: the guest kicks queue n by writing n to the
    // QueueNotify register (0xFEB0_0050). One eventfd per queue claims the write by its value,
    // both registered in one publish.
    let kicks = [try EventFD(), try EventFD()]
    let notifiers = try mmio.update { tx in
      try kicks.indices.map { queue in
        try tx.registerEventFD(
          kicks[queue], address: 0xFEB0_0050, size: 4, match: .value(UInt64(queue)))
      }
    }
    // end listing
    #expect(mmio.registrations == notifiers && mmio.publishes == 1)

    // listing: getting-started-dispatch
    // On each vCPU thread, once (optional with MembRCU, which registers a thread on its first
    // dispatch; up front, the first guest access does not pay for it):
    MembRCU.registerCurrentThread()

    // Then every exit: KVM_EXIT_IO goes to `pio`, KVM_EXIT_MMIO to `mmio`.
    for byte in "ok\n".utf8 {
      _ = pio.write(address: 0x3F8, size: 1, value: UInt64(byte))
    }
    let lineStatus = pio.read(address: 0x3FD, size: 1)  // 0x60
    let kick = mmio.write(address: 0xFEB0_0050, size: 4, value: 1)  // .claimed(notifiers[1].id)
    let stray = mmio.write(address: 0xFEB0_0050, size: 4, value: 7)  // .unclaimed
    let hostile = pio.write(address: 0xFFFF, size: 4, value: 0)  // .unclaimed: past port 0xFFFF
    // end listing
    #expect(serial.transmitted.withLock { $0 } == Array("ok\n".utf8))
    #expect(lineStatus == 0x60)
    #expect(kick == .claimed(notifiers[1].id))
    #expect(stray == .unclaimed && hostile == .unclaimed)
    #expect(mmio.statistics.unclaimedWrites == 1 && pio.statistics.unclaimedWrites == 1)

    // listing: getting-started-poller
    // The device's own thread waits for kicks with epoll, off the vCPU threads.
    let poller = try EventPoller()
    for eventFD in kicks { try poller.add(eventFD) }
    for (eventFD, count) in try poller.wait(timeout: .seconds(1)) {
      let queue = kicks.firstIndex(of: eventFD)!
      print("queue \(queue): \(count) kick(s)")  // queue 1: 1 kick(s)
    }
    // end listing
    _ = mmio.write(address: 0xFEB0_0050, size: 4, value: 0)
    let second = try poller.wait(timeout: .seconds(1))
    #expect(second.count == 1 && second[0].eventFD == kicks[0] && second[0].count == 1)
    #expect(try poller.wait(timeout: .zero).isEmpty, "the first wait drained queue 1")

    // listing: getting-started-errors
    // Mistakes are typed errors, and change nothing.
    do throws(IOBusError) {
      _ = try pio.register(SerialPort(), base: 0x3FC, length: 8)
    } catch .rangesOverlap(let existing, let new) {
      // new [0x3fc, +0x8) overlaps registration #1 [0x3f8, +0x8)
      print("refused: \(new) overlaps \(existing)")
    } catch {
      print("refused: \(error)")
    }
    // end listing
    #expect(pio.registrations == [com1])
    #expect(
      throws: IOBusError.rangesOverlap(
        .registered(com1), .new(.range(base: 0x3FC, length: 8))),
      performing: { try pio.register(SerialPort(), base: 0x3FC, length: 8) })
    #expect("\(com1)" == "registration #1 [0x3f8, +0x8)")

    // listing: getting-started-unregister
    // Hot-unplug. Returns after a grace period: no vCPU is inside the device or can enter
    // it, and the bus holds no reference to it.
    try pio.unregister(com1)

    // Without blocking: the closure runs once the bus has let go of the device.
    try mmio.unregister(notifiers[0]) { print("queue 0's notifier released") }

    // In async code, suspend instead of blocking a thread.
    try await mmio.unregisterAndAwaitRelease(notifiers[1])
    // end listing
    #expect(pio.registrations.isEmpty && mmio.registrations.isEmpty)
    #expect(mmio.write(address: 0xFEB0_0050, size: 4, value: 1) == .unclaimed)
    #expect(pio.gracePeriodWaits == 1 && mmio.gracePeriodWaits == 0)
    MembRCU.barrier()
    #expect(pio.retiredSnapshots == 0 && mmio.retiredSnapshots == 0)
  }
}
