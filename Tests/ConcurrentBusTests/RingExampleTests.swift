import ConcurrentBus
import Testing

// The example in ValueRing's doc comment, kept here so it keeps compiling and doing what the
// comment says. Edit both together.

extension RingTests {
  @Test("the ValueRing doc comment example works as written", .timeLimit(.minutes(1)))
  func ringExample() async throws {
    let bus = IOBus()

    // A UART's transmit register: every byte the guest writes, in order, off the vCPU.
    let transmit = try bus.registerRing(
      address: 0x3F8, size: 1, match: .any, capacity: 256, wakeup: EventFD())
    let consumer = Task {
      var text = ""
      for await entry in try transmit.entries() {
        switch entry {
        case .write(let write): text.append(Character(Unicode.Scalar(UInt8(write.value))))
        case .lost(let loss): text.append("[\(loss.count) lost]")
        }
      }
      return text  // once the registration is gone and every byte is delivered
    }

    // vCPU threads: a claimed write is one append to the thread's own lane.
    for byte in "hello".utf8 { _ = bus.write(address: 0x3F8, size: 1, value: UInt64(byte)) }

    try bus.unregister(transmit.registration)
    #expect(try await consumer.value == "hello")
  }
}
