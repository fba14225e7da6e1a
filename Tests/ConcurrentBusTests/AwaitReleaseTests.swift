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

/// The release promise holds however soon the reclaimer gets to the work.
@Suite("Deferred release")
struct DeferredReleaseTests {
  @Test("whenReleased runs only once the bus has let go of the device, even right away")
  func closureRunsAfterTheBusLetsGo() throws {
    // In a row, each waited for before the next: the reclaimer polls and may run the work
    // before the unregister call has even returned, on every flavor with its own reclaimer.
    let bus = IOBus()
    let stillHeld = Locked(0)
    for index in 0..<500 {
      let device = WeakDevice(RecordingDevice("device \(index)"))
      let registration = try bus.register(device.strong!, base: 0x1000, length: 0x10)
      device.strong = nil
      let done = DispatchSemaphore(value: 0)
      try bus.unregister(registration) {
        if device.isAlive { stillHeld.withLock { $0 += 1 } }
        done.signal()
      }
      done.wait()
    }
    #expect(stillHeld.value == 0, "whenReleased ran while the bus still held the device")
  }
}

/// A device the test lets go of, watched through a weak reference.
private final class WeakDevice: @unchecked Sendable {
  // @unchecked: `strong` is dropped by the test thread before the bus's closure can run;
  // `weak` is read by that closure after a grace period, once the bus has published.
  var strong: RecordingDevice?
  private weak var weak: RecordingDevice?

  init(_ device: RecordingDevice) {
    strong = device
    weak = device
  }

  var isAlive: Bool { weak != nil }
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
