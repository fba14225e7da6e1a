import ConcurrentBus
import Foundation
import RCU
import Synchronization
import Testing

/// `unregisterAndAwaitRelease` polls briefly for the release, then suspends: both ways, it
/// returns only once the bus has let go of the device, after every older reader.
@Suite("Awaited unregister", .timeLimit(.minutes(1)))
struct AwaitReleaseTests {
  @Test("a release that outlasts the poll is awaited: the caller resumes after the reader")
  func releaseOutlastsPoll() async throws {
    let bus = IOBus()
    weak var weakDevice: RecordingDevice?
    let registration: Registration
    do {
      let device = RecordingDevice("held")
      weakDevice = device
      registration = try bus.register(device, base: 0x10, length: 0x10)
    }
    // A reader inside a section for 50 ms: far longer than the 20 us poll.
    let reader = ParkedReader(for: 0.05)
    let start = Date()
    try await bus.unregisterAndAwaitRelease(registration)
    let waited = Date().timeIntervalSince(start)
    #expect(reader.hasLeft, "resumed while an older reader was still inside its section")
    #expect(waited >= 0.03, "resumed after \(waited) s, before the reader could have left")
    #expect(weakDevice == nil, "the bus let go of the device before resuming")
    reader.join()
  }

  @Test("many awaited unregisters in a row each release their device before returning")
  func releasesInARow() async throws {
    let bus = IOBus()
    for index in 0..<200 {
      weak var weakDevice: RecordingDevice?
      let registration: Registration
      do {
        let device = RecordingDevice("device \(index)")
        weakDevice = device
        registration = try bus.register(device, base: 0x1000, length: 0x10)
      }
      try await bus.unregisterAndAwaitRelease(registration)
      #expect(weakDevice == nil, "unregister \(index) returned before the release")
    }
    MembRCU.barrier()
    #expect(bus.retiredSnapshots == 0)
  }
}

/// A thread that enters a memb read-side section and stays inside it for `seconds`.
private final class ParkedReader: Sendable {
  private let entered = DispatchSemaphore(value: 0)
  private let left = Atomic<Bool>(false)
  private let done = DispatchSemaphore(value: 0)

  init(for seconds: Double) {
    Thread { [self] in
      MembRCU.withReadSection {
        entered.signal()
        Thread.sleep(forTimeInterval: seconds)
        // Releasing: pairs with the acquiring load in `hasLeft`.
        left.store(true, ordering: .releasing)
      }
      done.signal()
    }.start()
    entered.wait()
  }

  /// Whether the reader has reached the end of its section.
  var hasLeft: Bool { left.load(ordering: .acquiring) }

  func join() { done.wait() }
}
