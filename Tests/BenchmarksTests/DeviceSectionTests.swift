import Foundation
import Testing

@testable import Benchmarks

extension BenchmarkTests {
  @Suite("write side, eventfd and rings")
  struct Devices {
    let settings = BenchSettings.tiny()

    @Test("write side: every operation timed count times, KVM's or why not")
    func writeSide() throws {
      let section = WriteSideSection(count: 8, preexisting: 4)
      let results = try section.measure(settings)
      let bus: [WriteSideSection.Operation] = [
        .register, .registerSynchronous, .unregisterSynchronous, .unregisterDeferred,
        .registerEventFD,
      ]
      for operation in bus { #expect(results.latencies[operation]?.count == 8, "\(operation)") }
      let kvm = [results.latencies[.kvmAssign], results.latencies[.kvmDeassign]]
      if results.kvmUnavailableReason == nil {
        #expect(kvm.allSatisfy { $0?.count == 8 })
      } else {
        #expect(kvm.allSatisfy { $0 == nil })
      }
      #expect(results.registrations.count == 3)
      #expect(results.registrations.values.allSatisfy { $0.samples.count == settings.rounds })
      #expect(
        section.judge(results, settings: settings).count
          == (results.kvmUnavailableReason == nil ? 2 : 1))
      #expect(try roundTrip(results) == results)
      let keys = try #require(
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(results)) as? [String: Any]
      ).keys
      #expect(Set(keys).isSuperset(of: ["preexisting", "register", "batchNanos", "singlesNanos"]))
    }

    @Test("eventfd: one sample per round of each loop, no target")
    func eventFD() throws {
      let section = EventFDSection(registrations: 4, operations: 512)
      let result = try section.measure(settings)
      #expect(result.busDispatchNanos.samples.count == settings.rounds)
      #expect(result.bareWriteNanos.samples.count == settings.rounds)
      #expect(section.judge(result, settings: settings).isEmpty)
      #expect(section.render(result).contains("overhead"))
    }

    @Test("rings: no write lost, every burst counted, both targets judged")
    func rings() throws {
      let section = RingSection(preexisting: 4, operations: 4096, bursts: 3)
      let ring = try section.measure(settings)
      #expect(ring.ringLost == 0)
      #expect(ring.ringWriteNanos.samples.count == settings.rounds)
      #expect(ring.consumerWakeupsPerBurst.samples.count == 3)
      #expect(ring.burstWriteNanos.samples.count == 3)
      #expect(section.judge(ring, settings: settings).count == 2)
      #expect(try roundTrip(ring) == ring)
    }
  }
}
