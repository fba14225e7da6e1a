// The listing of RCU.md (the RCU module's landing page).

import ConcurrentBus
import Testing

// listing: rcu-published-type
/// Settings that readers on any thread consult on a hot path, and a control thread changes.
struct Limits: Sendable {
  var maximumQueues: Int
}
// end listing

@Suite("Article: RCU landing page")
struct RCULandingTests {
  @Test("RCUPublished: readers borrow, the writer publishes and reclaims after a grace period")
  func published() {
    // listing: rcu-published
    let limits = RCUPublished<MembRCU, Limits>(Limits(maximumQueues: 4))

    // Readers, on any thread: a read-side section around a borrow of the current snapshot.
    let before = limits.read { $0.maximumQueues }  // 4

    // One writer at a time (serialize writers with a lock of your own).
    let retired = limits.publish(Limits(maximumQueues: 8))
    retired.reclaimAfterSynchronize()  // waits for readers of the old snapshot, then frees it
    let after = limits.read { $0.maximumQueues }  // 8
    // end listing
    #expect(before == 4 && after == 8)
    #expect(limits.retiredCount == 0)
    limits.publish(Limits(maximumQueues: 16)).reclaimDeferred()
    MembRCU.barrier()
    #expect(limits.retiredCount == 0 && limits.read { $0.maximumQueues } == 16)
  }
}
