import Glibc
import HostSupport
import RCU
import Synchronization

/// A retired snapshot handed to a deferred callback, reclaimed at most once even if the
/// callback runs twice (the duplicate check stops the second run first; this is the
/// second line of defence).
final class ReclaimBox<Flavor: RCUFlavor>: Sendable {
  private let snapshot: Mutex<RetiredSnapshot<Flavor, TortureSnapshot>?>

  init(_ snapshot: consuming RetiredSnapshot<Flavor, TortureSnapshot>) {
    self.snapshot = Mutex(Optional(snapshot))
  }

  func reclaim() {
    if let snapshot = snapshot.withAnnotatedLock(owner: self, { $0.take() }) {
      snapshot.reclaimNow()
    }
  }
}

extension TortureRun {
  /// The writer: publishes a fresh element, waits a grace period, ages everything it
  /// replaced, and recycles elements old enough that no correct reader can hold them.
  /// One update in four reclaims the replaced snapshot through a checked deferred callback
  /// instead of right after the grace period.
  func write(_ slot: WaitSlot) {
    Flavor.registerOfflineThread()
    defer { Flavor.unregisterOfflineThread() }
    var rng = SplitMix64(seed: configuration.seed ^ 0xD1B5_4A32_D192_ED03)
    var current = 0
    var retired: [Int] = []
    var free = Array(1..<pool.count)
    var outstanding: [CheckedCallback] = []
    var update = 0
    var recentWaits: [UInt64] = []
    while !stop.isSet {
      let next = free.removeLast()
      pool.with(next) { $0.age.store(0, ordering: .relaxed) }
      let old = publish(next, update: update)
      retired.append(current)
      current = next
      if rng.next() % 4 == 0 {
        let box = ReclaimBox(old)
        outstanding.append(callbacks.queue(Flavor.self) { box.reclaim() })
        counters.add(.deferredReclaims)
        recentWaits.append(timedSynchronize(slot))
      } else {
        recentWaits.append(timedSynchronize(slot))
        old.reclaimNow()
      }
      if recentWaits.count == 64 {
        longDelays.update(fromRecent: &recentWaits)
        recentWaits.removeAll(keepingCapacity: true)
      }
      update += 1
      counters.add(.updates)
      // One more grace period has passed for everything already replaced.
      for index in retired { pool.with(index) { _ = $0.age.add(1, ordering: .relaxed) } }
      let recycled = retired.filter { pool.with($0) { $0.age.load(ordering: .relaxed) } >= 10 }
      retired.removeAll { recycled.contains($0) }
      for index in recycled { pool.with(index) { $0.marker.store(0, ordering: .relaxed) } }
      free += recycled
      if outstanding.count >= 256 { barrierAndCheck(&outstanding, slot) }
    }
    leftovers.withAnnotatedLock(owner: self) { $0 += outstanding }
  }

  /// Publishes element `next`, initialized first, except under `publish-before-init` once
  /// in N updates, where the marker is set only after publication, once the readers have
  /// completed two sections each since (or twice the longest reader sleep has passed): a
  /// slow initialization that at least one section began during, however the threads are
  /// scheduled.
  private func publish(_ next: Int, update: Int) -> RetiredSnapshot<Flavor, TortureSnapshot> {
    let every = configuration.faultEvery
    guard configuration.fault == .publishBeforeInit && update % every == every - 1 else {
      pool.with(next) { $0.marker.store(TortureElement.initialized, ordering: .relaxed) }
      return cell.publish(TortureSnapshot(index: next))
    }
    let readsBefore = counters[.reads]
    let old = cell.publish(TortureSnapshot(index: next))
    // Readers may be asleep in a section for up to the long-delay bound: wait past it.
    let deadline = monotonicNanoseconds() + 2 * longDelays.nanoseconds
    while counters[.reads] < readsBefore + 2 * UInt64(configuration.readers)
      && monotonicNanoseconds() < deadline
    {
      sched_yield()
    }
    pool.with(next) { $0.marker.store(TortureElement.initialized, ordering: .relaxed) }
    writerFaults.add(1, ordering: .relaxed)
    return old
  }

  /// A fake writer: grace periods back to back with the writer's, a few checked callbacks
  /// after each, and every 16 rounds a `barrier()` after which all of them must have run.
  func fakeWrite(writer: Int, _ slot: WaitSlot) {
    Flavor.registerOfflineThread()
    defer { Flavor.unregisterOfflineThread() }
    var rng = SplitMix64(seed: configuration.seed &+ 0xFA4E_0000 &+ UInt64(writer))
    var outstanding: [CheckedCallback] = []
    var round = 0
    while !stop.isSet {
      timedSynchronize(slot)
      for _ in 0...(rng.next() % 4) { outstanding.append(callbacks.queue(Flavor.self)) }
      round += 1
      if round % 16 == 0 { barrierAndCheck(&outstanding, slot) }
      if rng.next() % 8 == 0 { sched_yield() } else { linger(Int(rng.next() % 1024), seed: 3) }
    }
    leftovers.withAnnotatedLock(owner: self) { $0 += outstanding }
  }

  /// `barrier()`, then every callback this thread queued before it must have run.
  private func barrierAndCheck(_ outstanding: inout [CheckedCallback], _ slot: WaitSlot) {
    slot.waiting(for: .barrier) { Flavor.barrier() }
    counters.add(.barriers)
    callbacks.checkRan(&outstanding)
  }

  /// One ticketed grace period, recorded in the report's histogram; returns its length.
  @discardableResult
  private func timedSynchronize(_ slot: WaitSlot) -> UInt64 {
    let start = monotonicNanoseconds()
    slot.waiting(for: .synchronize) { gracePeriods.synchronize(Flavor.self) }
    let waited = monotonicNanoseconds() - start
    gracePeriodWaits.withAnnotatedLock(owner: self) { _ = $0.record(waited) }
    return waited
  }
}
