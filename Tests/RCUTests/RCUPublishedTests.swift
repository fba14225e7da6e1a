import RCUTestSupport
import Foundation
import RCU
import Synchronization
import Testing

/// A payload that counts its own destruction, so tests can see exactly when a snapshot is
/// reclaimed.
struct CountedPayload: ~Copyable {
  let value: Int
  let destroyed: Counter

  deinit { destroyed.increment() }
}

final class Counter: Sendable {
  private let count = Atomic<Int>(0)
  func increment() { count.add(1, ordering: .relaxed) }
  var value: Int { count.load(ordering: .relaxed) }
}

@Suite("RCUPublished")
struct RCUPublishedTests {
  @Test("readers see the latest published snapshot")
  func readersSeeLatest() {
    let destroyed = Counter()
    let cell = RCUPublished<MembRCU, CountedPayload>(CountedPayload(value: 1, destroyed: destroyed))
    #expect(cell.read { $0.value } == 1)
    cell.publish(CountedPayload(value: 2, destroyed: destroyed)).reclaimAfterSynchronize()
    #expect(cell.read { $0.value } == 2)
    #expect(destroyed.value == 1)
    #expect(cell.retiredCount == 0)
  }

  @Test("every retired snapshot is destroyed exactly once", arguments: ["memb", "bp"])
  func deferredReclaimRunsOnce(flavor: String) {
    let destroyed = Counter()
    func run<F: RCUFlavor>(_: F.Type) -> Int {
      let cell = RCUPublished<F, CountedPayload>(CountedPayload(value: 0, destroyed: destroyed))
      for value in 1...200 {
        let retired = cell.publish(CountedPayload(value: value, destroyed: destroyed))
        if value.isMultiple(of: 3) {
          retired.reclaimAfterSynchronize()
        } else {
          retired.reclaimDeferred()
        }
      }
      F.barrier()
      #expect(cell.read { $0.value } == 200)
      return cell.retiredCount
    }
    let outstanding = flavor == "memb" ? run(MembRCU.self) : run(BulletproofRCU.self)
    #expect(outstanding == 0)
    // 200 replaced snapshots, plus the last one, destroyed with the cell.
    #expect(destroyed.value == 201)
  }

  @Test("reads from threads nobody registered are safe (lazy registration)")
  func lazyRegistration() {
    let destroyed = Counter()
    let cell = RCUPublished<MembRCU, CountedPayload>(CountedPayload(value: 7, destroyed: destroyed))
    let sum = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 64) { _ in
      sum.add(cell.read { $0.value }, ordering: .relaxed)
    }
    cell.publish(CountedPayload(value: 8, destroyed: destroyed)).reclaimAfterSynchronize()
    #expect(sum.load(ordering: .relaxed) == 64 * 7)
    #expect(destroyed.value == 1)
  }

  @Test("a grace period waits for a reader parked in its section", arguments: ["memb", "bp"])
  func gracePeriodWaitsForReader(flavor: String) {
    let violated =
      flavor == "memb"
      ? reclaimWhileReaderParked(MembRCU.self) : reclaimWhileReaderParked(BulletproofRCU.self)
    #expect(!violated)
  }

  @Test("the same check catches a flavor that does not wait")
  func brokenFlavorIsCaught() {
    #expect(reclaimWhileReaderParked(BrokenRCU.self))
  }
}

/// Parks a reader inside a read-side section holding the old snapshot, reclaims that
/// snapshot from another thread, and reports whether it was destroyed while the reader was
/// still inside.
func reclaimWhileReaderParked<F: RCUFlavor>(_: F.Type) -> Bool {
  let destroyed = Counter()
  let cell = RCUPublished<F, CountedPayload>(CountedPayload(value: 1, destroyed: destroyed))
  let inside = DispatchSemaphore(value: 0)
  let release = DispatchSemaphore(value: 0)
  let sawDestroyed = Atomic<Bool>(false)
  let readerDone = DispatchSemaphore(value: 0)
  Thread {
    F.registerCurrentThread()
    cell.read { payload in
      inside.signal()
      release.wait()
      // The payload must still be alive: its destruction count must not have moved.
      sawDestroyed.store(destroyed.value != 0 || payload.value != 1, ordering: .relaxed)
    }
    F.unregisterCurrentThread()
    readerDone.signal()
  }.start()
  inside.wait()
  let reclaimed = DispatchSemaphore(value: 0)
  Thread {
    cell.publish(CountedPayload(value: 2, destroyed: destroyed)).reclaimAfterSynchronize()
    reclaimed.signal()
  }.start()
  // Give a broken grace period every chance to complete while the reader is inside.
  let finishedEarly = reclaimed.wait(timeout: .now() + .milliseconds(200)) == .success
  release.signal()
  readerDone.wait()
  if !finishedEarly { reclaimed.wait() }
  return finishedEarly || sawDestroyed.load(ordering: .relaxed)
}
