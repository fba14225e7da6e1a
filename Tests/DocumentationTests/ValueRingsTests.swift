// The listings of ValueRings.md, and checks of what it says about order, wakeups, losses
// and sealing.

import ConcurrentBus
import Dispatch
import HostSupport
import Testing

// listing: ring-consumer
/// A device's consumer thread: serves every value the guest writes to `ring`, each vCPU's in
/// order, until the registration is gone and everything it captured has been served.
func serveRing(_ ring: ValueRing, handle: (RingEntry) -> Void) throws {
  let poller = try EventPoller()
  try poller.add(ring)
  var entries: [RingEntry] = []
  while true {
    _ = try poller.wait(timeout: nil)  // reads the eventfd, then the drain empties the lanes
    let state = ring.drain(into: &entries)
    entries.forEach(handle)
    entries.removeAll(keepingCapacity: true)
    if state == .finished { return }
  }
}
// end listing

@Suite("Article: Value rings")
struct ValueRingsTests {
  @Test("every value of every vCPU, in each vCPU's order, exactly once; then finished")
  func doorbell() throws {
    // listing: ring-doorbell
    let mmio = IOBus()
    // A doorbell that carries a producer index: every value the guest writes, in order.
    let doorbell = try mmio.registerRing(
      address: 0xFE00_0000, size: 4, match: .any, capacity: 1024, wakeup: EventFD())
    // end listing
    let served = Cell<[RingEntry]>([])
    let consumer = try HostThread {
      try? serveRing(doorbell) { entry in served.update { $0.append(entry) } }
    }
    let writesPerVCPU = 500
    let producers = Cell<[RingProducer]>([])
    // Both vCPU threads stay alive until both have written: a thread that exits gives its
    // producer slot (and its lane's sequence) to the next thread that writes to a ring.
    let written = DispatchSemaphore(value: 0)
    let exit = DispatchSemaphore(value: 0)
    let vcpus = try (0..<2).map { _ in
      try HostThread {
        let producer = RingProducer.current!
        producers.update { $0.append(producer) }
        for index in 0..<writesPerVCPU {
          _ = mmio.write(address: 0xFE00_0000, size: 4, value: UInt64(index))
        }
        written.signal()
        exit.wait()
      }
    }
    for _ in vcpus { written.wait() }
    for _ in vcpus { exit.signal() }
    for vcpu in vcpus { vcpu.join() }
    #expect(Set(producers.value).count == 2)
    try mmio.unregister(doorbell.registration)
    consumer.join()
    #expect(doorbell.isFinished)
    let entries = served.value
    #expect(entries.count == 2 * writesPerVCPU)
    for producer in producers.value {
      let values = entries.compactMap { entry -> UInt64? in
        guard case .write(let write) = entry, write.producer == producer else { return nil }
        #expect(write.sequence == write.value, "sequence k is the k-th write")
        return write.value
      }
      #expect(values == (0..<UInt64(writesPerVCPU)).map { $0 }, "\(producer)'s order")
    }
  }

  @Test("a burst costs one wakeup")
  func burst() throws {
    let mmio = IOBus()
    let wakeup = try EventFD()
    let ring = try mmio.registerRing(base: 0x1000, length: 8, capacity: 256, wakeup: wakeup)
    for value in 0..<64 { _ = mmio.write(address: 0x1000, size: 8, value: UInt64(value)) }
    #expect(wakeup.drain() == 1 && ring.statistics.wakeups == 1)
    var entries: [RingEntry] = []
    #expect(ring.drain(into: &entries) == .open && entries.count == 64)
    _ = mmio.write(address: 0x1000, size: 8, value: 64)
    #expect(wakeup.drain() == 1, "the lane went from empty to non-empty again")
    try mmio.unregister(ring.registration)
  }

  @Test("a full lane loses values, in place, counted; the seal ends the ring")
  func lossesAndSeal() throws {
    let mmio = IOBus()
    // listing: ring-losses
    // A ring with room for 4 records per vCPU, and a consumer that fell behind.
    let small = try mmio.registerRing(
      base: 0xFE10_0000, length: 0x100, capacity: 4, wakeup: EventFD())
    for value in 0..<6 { _ = mmio.write(address: 0xFE10_0008, size: 8, value: UInt64(value)) }

    var entries: [RingEntry] = []
    small.drain(into: &entries)  // the writes of 0, 1, 2, 3, then .lost(sequences 4..<6)
    let lost = small.statistics.lost  // 2
    // end listing
    let producer = try #require(RingProducer.current)
    #expect(
      entries
        == (0..<4).map {
          .write(RingWrite(producer: producer, sequence: $0, offset: 8, size: 8, value: $0))
        } + [.lost(RingLoss(producer: producer, sequences: 4..<6))])
    #expect(lost == 2 && small.statistics.recorded == 4)
    entries.removeAll()
    // listing: ring-seal
    try mmio.unregister(small.registration)
    let late = mmio.write(address: 0xFE10_0008, size: 8, value: 99)  // .unclaimed: not recorded
    let state = small.drain(into: &entries)  // .finished: sealed, and nothing is left
    // end listing
    #expect(late == .unclaimed && state == .finished && entries.isEmpty)
  }

  @Test("the async sequence ends once the registration is gone and everything is delivered")
  func asyncSequence() async throws {
    // listing: ring-async
    let pio = IOBus(space: .portIO)
    let transmit = try pio.registerRing(
      address: 0x3F8, size: 1, match: .any, capacity: 256, wakeup: EventFD())
    let console = Task {
      var text = ""
      for await entry in try transmit.entries() {
        switch entry {
        case .write(let write): text.append(Character(Unicode.Scalar(UInt8(write.value))))
        case .lost(let loss): text.append("[\(loss.count) bytes lost]")
        }
      }
      return text
    }
    for byte in "boot\n".utf8 { _ = pio.write(address: 0x3F8, size: 1, value: UInt64(byte)) }
    try pio.unregister(transmit.registration)
    let printed = try await console.value  // "boot\n"
    // end listing
    #expect(printed == "boot\n")
  }
}
