import ConcurrentBus
import Testing

@Suite("EventFD signals sequence")
struct EventFDSignalsTests {
  @Test(.timeLimit(.minutes(1)))
  func yieldsCountsThenEndsOnCancellation() async throws {
    let eventFD = try EventFD()
    let signals = try eventFD.signals()
    let (progress, reporter) = AsyncStream.makeStream(of: UInt64.self)
    let consumer = Task {
      var total: UInt64 = 0
      for await count in signals {
        total += count
        reporter.yield(total)
      }
      reporter.finish()
      return total
    }
    try eventFD.signal(2)
    try eventFD.signal(3)
    var seen: UInt64 = 0
    for await total in progress where total >= 5 {
      seen = total
      break
    }
    #expect(seen == 5)
    try eventFD.signal(4)
    for await total in progress where total >= 9 {
      seen = total
      break
    }
    #expect(seen == 9)
    consumer.cancel()
    #expect(await consumer.value == 9)
  }

  @Test(.timeLimit(.minutes(1)))
  func cancellationEndsAnIdleIteration() async throws {
    let eventFD = try EventFD()
    let signals = try eventFD.signals()
    let consumer = Task {
      var elements = 0
      for await _ in signals { elements += 1 }
      return elements
    }
    consumer.cancel()
    #expect(await consumer.value == 0)
  }

  @Test(.timeLimit(.minutes(1)))
  func pumpThreadLetsGoOfTheEventFDAfterCancellation() async throws {
    weak var weakEventFD: EventFD?
    let consumer: Task<Void, Never>
    do {
      let eventFD = try EventFD()
      weakEventFD = eventFD
      let signals = try eventFD.signals()
      consumer = Task { for await _ in signals {} }
    }
    consumer.cancel()
    await consumer.value
    // The thread exits asynchronously after its wake-up; the time limit bounds this loop.
    while weakEventFD != nil { try await Task.sleep(for: .milliseconds(5)) }
  }
}
