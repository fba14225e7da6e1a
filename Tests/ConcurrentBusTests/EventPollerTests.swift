import ConcurrentBus
import Glibc
import Synchronization
import Testing

@Suite("EventFD poller")
struct EventFDPollerTests {
  @Test func countsFromManyThreadsAddUpExactlyPerEventFD() throws {
    let poller = try EventPoller()
    let signalsPerEventFD = [1_000, 2_500, 1, 4_000]
    let eventFDs = try signalsPerEventFD.map { _ in try EventFD() }
    for eventFD in eventFDs { try poller.add(eventFD) }
    // Two threads per eventfd, each signalling half (rounded) of its count one at a time.
    let producers = zip(eventFDs, signalsPerEventFD).flatMap { eventFD, total in
      [total / 2, total - total / 2].map { share in
        EventFDTestThread {
          for _ in 0..<share { try? eventFD.signal() }
        }
      }
    }
    var received = [EventFD: UInt64]()
    let expectedTotal = UInt64(signalsPerEventFD.reduce(0, +))
    let giveUp = ContinuousClock.now + .seconds(120)
    // Bounded so a lost count fails the test instead of hanging it.
    while received.values.reduce(0, +) < expectedTotal, ContinuousClock.now < giveUp {
      for (eventFD, count) in try poller.wait(timeout: .milliseconds(100)) {
        received[eventFD, default: 0] += count
      }
    }
    for producer in producers { producer.join() }
    for eventFD in eventFDs { received[eventFD, default: 0] += eventFD.drain() }
    for (eventFD, expected) in zip(eventFDs, signalsPerEventFD) {
      #expect(received[eventFD] == UInt64(expected))
    }
  }

  @Test func timeoutReturnsEmpty() throws {
    let poller = try EventPoller()
    try poller.add(try EventFD())
    #expect(try poller.wait(timeout: .zero).isEmpty)
    #expect(try poller.wait(timeout: .milliseconds(10)).isEmpty)
    #expect(try poller.wait(timeout: .nanoseconds(1)).isEmpty)
  }

  @Test func reportsOnlySignalledEventFDsWithTheirCounts() throws {
    let poller = try EventPoller()
    let quiet = try EventFD()
    let busy = try EventFD(options: .semaphore)
    try poller.add(quiet)
    try poller.add(busy)
    try busy.signal(3)
    let ready = try poller.wait(timeout: nil)
    #expect(ready.count == 1)
    #expect(ready.first?.eventFD === busy)
    #expect(ready.first?.count == 3)
    #expect(try poller.wait(timeout: .zero).isEmpty, "drained, so no longer ready")
  }

  @Test func removedEventFDIsNotReported() throws {
    let poller = try EventPoller()
    let eventFD = try EventFD()
    try poller.add(eventFD)
    try poller.remove(eventFD)
    try eventFD.signal()
    #expect(try poller.wait(timeout: .zero).isEmpty)
    #expect(eventFD.drain() == 1)
  }

  @Test func addingTwiceOrRemovingUnknownThrows() throws {
    let poller = try EventPoller()
    let eventFD = try EventFD()
    try poller.add(eventFD)
    #expect(throws: EventFDError(.epollAdd, .fileExists)) { try poller.add(eventFD) }
    try poller.remove(eventFD)
    #expect(throws: EventFDError(.epollRemove, .noSuchFileOrDirectory)) {
      try poller.remove(eventFD)
    }
  }

  @Test func registrationKeepsTheEventFDAlive() throws {
    let poller = try EventPoller()
    weak var weakEventFD: EventFD?
    do {
      let eventFD = try EventFD()
      weakEventFD = eventFD
      try poller.add(eventFD)
    }
    do {
      let eventFD = try #require(weakEventFD, "the poller holds it while registered")
      try poller.remove(eventFD)
    }
    #expect(weakEventFD == nil)
  }

  @Test func eventFDAddedDuringABlockingWaitWakesIt() throws {
    let poller = try EventPoller()
    let result = Mutex<[(eventFD: EventFD, count: UInt64)]>([])
    let consumer = EventFDTestThread {
      let ready = (try? poller.wait(timeout: nil)) ?? []
      result.withLock { $0 = ready }
    }
    usleep(20_000)
    let late = try EventFD()
    try poller.add(late)
    try late.signal(6)
    consumer.join()
    let ready = result.withLock { $0 }
    #expect(ready.count == 1)
    #expect(ready.first?.eventFD === late)
    #expect(ready.first?.count == 6)
  }

  @Test func removingWhileAnotherThreadWaitsIsSafe() throws {
    let poller = try EventPoller()
    let stop = try EventFD()
    try poller.add(stop)
    let rounds = 2_000
    let seen = Mutex<UInt64>(0)
    let consumer = EventFDTestThread {
      while true {
        let ready = (try? poller.wait(timeout: nil)) ?? []
        if ready.contains(where: { $0.eventFD === stop }) { return }
        seen.withLock { $0 += ready.reduce(0) { $0 + $1.count } }
      }
    }
    // Churn: each round registers a fresh eventfd, signals it, and removes it, possibly
    // while the consumer is draining it; no count may be lost or doubled.
    var drainedHere: UInt64 = 0
    for _ in 0..<rounds {
      let eventFD = try EventFD()
      try poller.add(eventFD)
      try eventFD.signal()
      try poller.remove(eventFD)
      drainedHere += eventFD.drain()
    }
    try stop.signal()
    consumer.join()
    #expect(seen.withLock { $0 } + drainedHere == UInt64(rounds))
  }
}
