import ConcurrentBus
import HostSupport
import RCU
import Synchronization
import Testing

extension RingTests {
  /// The writes among `entries`, in order.
  static func writes(_ entries: [RingEntry]) -> [RingWrite] {
    entries.compactMap { if case .write(let write) = $0 { write } else { nil } }
  }

  @Suite("The accessing vCPU in rings")
  struct VCPUTests {
    func drain(_ ring: ValueRing) -> [RingEntry] {
      var entries: [RingEntry] = []
      ring.drain(into: &entries)
      return entries
    }

    @Test("one thread writing as several vCPUs, hostile indices included: each write keeps its own")
    func labels() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 64, wakeup: EventFD())
      let indices = [0, 3, 3, -1, .max, .min, 1 << 40, 0, 5000, 2]
      for (n, vcpu) in indices.enumerated() {
        #expect(
          bus.write(address: 0x10, size: 8, value: UInt64(n), vcpu: vcpu)
            == .claimed(ring.registration.id))
      }
      let written = RingTests.writes(drain(ring))
      #expect(written.map(\.vcpu) == indices)
      #expect(written.map(\.sequence) == (0..<UInt64(indices.count)).map { $0 })
      // Labels take room in the lane but are not records: the statistics count writes.
      #expect(ring.statistics.recorded == UInt64(indices.count) && ring.statistics.lost == 0)
    }

    @Test("a label that finds the lane full loses the write, and the next write labels again")
    func labelOnFullLane() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 2, wakeup: EventFD())
      let producer = try #require(RingProducer.current)
      _ = bus.write(address: 0x10, size: 8, value: 10, vcpu: 0)
      _ = bus.write(address: 0x10, size: 8, value: 11, vcpu: 0)
      // Full: the label for vCPU 7 does not fit, so this write is lost.
      #expect(
        bus.write(address: 0x10, size: 8, value: 12, vcpu: 7) == .claimed(ring.registration.id))
      #expect(
        drain(ring) == [
          .write(RingWrite(producer: producer, sequence: 0, offset: 0, size: 8, value: 10)),
          .write(RingWrite(producer: producer, sequence: 1, offset: 0, size: 8, value: 11)),
          .lost(RingLoss(producer: producer, sequences: 2..<3)),
        ])
      _ = bus.write(address: 0x10, size: 8, value: 13, vcpu: 7)
      #expect(
        drain(ring) == [
          .write(
            RingWrite(producer: producer, sequence: 3, offset: 0, size: 8, value: 13, vcpu: 7))
        ])
    }

    @Test("a direct caller's bad size is recorded folded into 1...8, never as a label")
    func badSizes() throws {
      let bus = IOBus()
      let ring = try bus.registerRing(
        address: 0x10, size: 8, match: .any, capacity: 16, wakeup: EventFD())
      let device = try #require(bus.device(of: ring.registration) as? ValueRingDevice)
      for size in [0, 16, -1, 9] {
        #expect(device.write(offset: 0, size: size, value: 1, vcpu: 4))
      }
      let written = RingTests.writes(drain(ring))
      #expect(written.map(\.size) == [8, 8, 7, 1] && written.allSatisfy { $0.vcpu == 4 })
    }
  }
}
