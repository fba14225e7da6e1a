import ConcurrentBus
import Foundation
import Glibc
import SystemPackage
import Testing

@Suite("EventFD")
struct EventFDTests {
  @Test func signalThreeTimesThenReadReturnsThree() throws {
    let eventFD = try EventFD()
    for _ in 0..<3 { try eventFD.signal() }
    #expect(try eventFD.read() == 3)
    #expect(eventFD.drain() == 0)
  }

  @Test func initialValueIsReadable() throws {
    let eventFD = try EventFD(initialValue: 7, options: .nonBlocking)
    #expect(try eventFD.read() == 7)
  }

  @Test func semaphoreModeReadsOneAtATime() throws {
    let eventFD = try EventFD(options: [.semaphore, .nonBlocking])
    try eventFD.signal(3)
    #expect(try eventFD.read() == 1)
    #expect(try eventFD.read() == 1)
    #expect(try eventFD.read() == 1)
    let error = #expect(throws: EventFDError.self) { try eventFD.read() }
    #expect(error?.isWouldBlock == true)
    #expect(error?.operation == .read)
  }

  @Test func semaphoreDrainTakesEverything() throws {
    let eventFD = try EventFD(options: .semaphore)
    try eventFD.signal(5)
    #expect(eventFD.drain() == 5)
    #expect(eventFD.drain() == 0)
  }

  @Test func drainOnEmptyReturnsZero() throws {
    #expect(try EventFD().drain() == 0)
    #expect(try EventFD(options: .nonBlocking).drain() == 0)
  }

  @Test func drainTakesTheWholeCounter() throws {
    let eventFD = try EventFD()
    try eventFD.signal(40)
    try eventFD.signal(2)
    #expect(eventFD.drain() == 42)
    #expect(eventFD.drain() == 0)
  }

  @Test func nonBlockingReadOnEmptyThrowsWouldBlock() throws {
    let eventFD = try EventFD(options: .nonBlocking)
    let error = #expect(throws: EventFDError.self) { try eventFD.read() }
    #expect(error == EventFDError(.read, .wouldBlock))
  }

  @Test func nonBlockingOverflowThrowsTypedError() throws {
    let eventFD = try EventFD(options: .nonBlocking)
    try eventFD.signal(EventFD.maxCounter)
    let error = #expect(throws: EventFDError.self) { try eventFD.signal(1) }
    #expect(error == EventFDError(.signal, .wouldBlock))
    #expect(try eventFD.read() == EventFD.maxCounter)
  }

  @Test func trySignalReportsFullCounterEvenWhenBlocking() throws {
    let eventFD = try EventFD()
    #expect(eventFD.trySignal(EventFD.maxCounter) == .signalled)
    #expect(eventFD.trySignal() == .counterFull)
    #expect(try eventFD.read() == EventFD.maxCounter)
    #expect(eventFD.trySignal(2) == .signalled)
    #expect(try eventFD.read() == 2)
  }

  @Test func signallingTheReservedMaximumIsInvalid() throws {
    let eventFD = try EventFD(options: .nonBlocking)
    let error = #expect(throws: EventFDError.self) { try eventFD.signal(.max) }
    #expect(error == EventFDError(.signal, .invalidArgument))
  }

  @Test func blockingReadWaitsForAnotherThreadsSignal() throws {
    let eventFD = try EventFD()
    let signaller = EventFDTestThread {
      usleep(20_000)
      try? eventFD.signal(9)
    }
    #expect(try eventFD.read() == 9)
    signaller.join()
  }

  @Test func blockingSignalOnFullCounterWaitsForARead() throws {
    let eventFD = try EventFD()
    try eventFD.signal(EventFD.maxCounter)
    let signaller = EventFDTestThread {
      // Blocks until the read below makes room.
      #expect(throws: Never.self) { try eventFD.signal(5) }
    }
    usleep(20_000)
    #expect(try eventFD.read() == EventFD.maxCounter)
    signaller.join()
    #expect(try eventFD.read() == 5)
  }

  @Test func descriptorIsCloseOnExec() throws {
    let eventFD = try EventFD()
    #expect(fcntl(eventFD.descriptor, F_GETFD) & FD_CLOEXEC != 0)
  }

  @Test func descriptorClosesOnlyAfterTheLastOwnerLetsGo() throws {
    var owner: EventFD? = try EventFD()
    let descriptor = owner!.descriptor
    let borrowers = (0..<4).map { [owner] _ in
      EventFDTestThread {
        // Each thread holds its own reference and drops it when done.
        withExtendedLifetime(owner) { _ = owner?.trySignal() }
      }
    }
    for borrower in borrowers { borrower.join() }
    #expect(owner?.drain() == 4)
    try owner?.signal(EventFDIdentity.marker)
    let identity = try #require(EventFDIdentity(descriptor))
    owner = nil
    // Closed: F_GETFD fails with EBADF, or a parallel test already reused the number for
    // another eventfd, which does not hold the marker count.
    let isClosed = fcntl(descriptor, F_GETFD) == -1 && errno == EBADF
    #expect(isClosed || EventFDIdentity(descriptor) != identity)
  }
}

/// What /proc/self/fdinfo says of the eventfd behind a descriptor: its kernel id and its
/// count. The kernel reuses both descriptor numbers and ids, so tests that must tell their
/// eventfd from a later one given the same number first signal ``marker`` into it.
struct EventFDIdentity: Equatable {
  /// A count no other test's eventfd holds.
  static let marker: UInt64 = 0x5EED_C0DE_0000_0001

  let lines: [String]

  /// Nil when the descriptor is not open or is not an eventfd.
  init?(_ descriptor: Int32) {
    guard
      let info = try? String(contentsOfFile: "/proc/self/fdinfo/\(descriptor)", encoding: .utf8)
    else { return nil }
    lines = info.split(separator: "\n").filter { $0.hasPrefix("eventfd-") }.map(String.init)
    guard lines.contains(where: { $0.hasPrefix("eventfd-id:") }) else { return nil }
  }
}
