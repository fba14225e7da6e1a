import Dispatch
import HostSupport
import RCU
import RCUFaultFlavors
import Testing

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

  @Test(
    "every retired snapshot is destroyed exactly once",
    arguments: TestedFlavor.allCases.filter { !$0.needsOwnProcess })
  func deferredReclaimRunsOnce(flavor: TestedFlavor) throws {
    let (outstanding, destroyed) = try publishAndReclaim(flavor.flavorType())
    #expect(outstanding == 0)
    // 200 replaced snapshots, plus the last one, destroyed with the cell.
    #expect(destroyed == 201)
  }

  @Test(
    "a grace period waits for a reader holding the old snapshot",
    arguments: TestedFlavor.allCases.filter { !$0.needsOwnProcess })
  func gracePeriodWaitsForReader(flavor: TestedFlavor) throws {
    #expect(try !reclaimWhileReaderParked(flavor.flavorType()))
  }

  @Test("the same check catches a flavor that does not wait")
  func brokenFlavorIsCaught() throws {
    #expect(try reclaimWhileReaderParked(BrokenRCU.self))
  }
}

/// Publishes 200 snapshots, reclaiming some synchronously and the rest deferred, then
/// returns how many are still retired after barrier() and how many were destroyed.
func publishAndReclaim<F: RCUFlavor>(_: F.Type) throws -> (outstanding: Int, destroyed: Int) {
  let destroyed = Counter()
  var outstanding = 0
  do {
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
    let latest = try onRegisteredThread(F.self) { cell.read { $0.value } }
    #expect(latest == 200)
    outstanding = cell.retiredCount
  }
  return (outstanding, destroyed.value)
}

/// Parks a reader inside a read-side section holding the old snapshot, reclaims that
/// snapshot from another thread, and reports whether it was destroyed while the reader was
/// still inside.
func reclaimWhileReaderParked<F: RCUFlavor>(_: F.Type) throws -> Bool {
  let destroyed = Counter()
  let cell = RCUPublished<F, CountedPayload>(CountedPayload(value: 1, destroyed: destroyed))
  // The reader loads the current snapshot inside its section, then parks there.
  let reader = try ParkedReader<F> { _ = cell.withCurrent { $0.value } }
  let reclaimed = DispatchSemaphore(value: 0)
  _ = try HostThread {
    cell.publish(CountedPayload(value: 2, destroyed: destroyed)).reclaimAfterSynchronize()
    reclaimed.signal()
  }
  // Give a broken grace period every chance to complete while the reader is inside.
  let finishedEarly = reclaimed.wait(timeout: .now() + temptation) == .success
  let destroyedEarly = destroyed.value != 0
  reader.leave()
  if !finishedEarly { reclaimed.wait() }
  return finishedEarly || destroyedEarly
}
