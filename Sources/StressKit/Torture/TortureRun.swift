import Foundation
import Glibc
import Histogram
import HostSupport
import RCU
import Synchronization

/// One element of the torture pool. Elements are never freed during a run (a freed element
/// would crash a reader instead of being caught by the age check): the writer recycles
/// them once they are old enough.
final class TortureElement: Sendable {
  /// Grace periods completed since this element was replaced; 0 while current.
  let age = Atomic<Int>(0)
  /// Set before publication and cleared when recycled: a reader must always see it set.
  let marker = Atomic<UInt64>(0)
}

/// What the published slot holds: a reference to the current element, not retained, so a
/// reader touches no reference count.
///
/// The reference sits past the first 16 bytes, which glibc's allocator overwrites when a
/// block is freed: a reader of a snapshot freed too early (a broken grace period) then still
/// finds a live element and trips the age check, instead of crashing on a mangled pointer.
struct TortureSnapshot {
  private let allocatorScratch: (UInt64, UInt64) = (0, 0)
  let element: Unmanaged<TortureElement>

  init(element: Unmanaged<TortureElement>) {
    self.element = element
  }
}

/// An rcutorture-style check of the RCU layer alone (this project's own, written from the
/// published description of the algorithm): readers record the pipeline age of the element
/// they hold; an age of 2 or more means it outlived a full grace period while in use.
public final class TortureRun<Flavor: RCUFlavor>: Sendable {
  static var pipelineLength: Int { 10 }
  static var published: UInt64 { 0x5EED_F00D_CAFE_0001 }

  let readers: Int
  let duration: Double
  let skipGracePeriod: Bool
  let seed: UInt64
  let violations = Violations()
  private let pool: [TortureElement]
  private let cell: RCUPublished<Flavor, TortureSnapshot>
  private let stop = StopFlag()
  private let reads = Atomic<UInt64>(0)
  private let updates = Atomic<UInt64>(0)
  private let ages = Mutex([UInt64](repeating: 0, count: TortureRun.pipelineLength + 1))
  private let gracePeriodWaits = Mutex(Histogram<UInt64>(highestTrackableValue: 120_000_000_000))

  public init(readers: Int, duration: Double, skipGracePeriod: Bool, seed: UInt64) {
    self.readers = readers
    self.duration = duration
    self.skipGracePeriod = skipGracePeriod
    self.seed = seed
    pool = (0..<64).map { _ in TortureElement() }
    pool[0].marker.store(Self.published, ordering: .relaxed)
    cell = RCUPublished(TortureSnapshot(element: .passUnretained(pool[0])))
  }

  public func run() throws -> TortureReport {
    let started = monotonicNanoseconds()
    let readerThreads = try startThreads(readers, named: "reader") { self.read(reader: $0) }
    let writer = try startThreads(1, named: "writer") { _ in self.write() }
    let progress = try Progress { elapsed in
      String(
        format: "torture %.0fs: %.2fM reads/s, %.0f grace periods/s, %d violations", elapsed,
        Double(self.reads.load(ordering: .relaxed)) / elapsed / 1e6,
        Double(self.updates.load(ordering: .relaxed)) / elapsed, self.violations.count)
    }
    let deadline = started + UInt64(duration * 1e9)
    while monotonicNanoseconds() < deadline && !violations.any { usleep(10_000) }
    stop.set()
    for thread in readerThreads + writer { thread.join() }
    progress.stop()
    Flavor.barrier()
    let elapsed = Double(monotonicNanoseconds() - started) / 1e9
    if cell.retiredCount != 0 {
      violations.record(.reclamation, "\(cell.retiredCount) retired snapshot(s) never reclaimed")
    }
    return TortureReport(
      readers: readers, flavor: Flavor.name, fault: skipGracePeriod ? "skip-grace-period" : "none",
      seed: seed, elapsedSeconds: elapsed, reads: reads.load(ordering: .relaxed),
      gracePeriods: updates.load(ordering: .relaxed), ageHistogram: ages.withLock { $0 },
      gracePeriodWait: LatencySummary(gracePeriodWaits.withLock { $0 }),
      retiredSnapshotsOutstanding: cell.retiredCount, peakRSSBytes: peakResidentBytes(),
      violations: violations.summary)
  }

  private func read(reader: Int) {
    Flavor.registerCurrentThread()
    defer { Flavor.unregisterCurrentThread() }
    var rng = SplitMix64(seed: seed &+ UInt64(reader + 1) &* 0x9E37_79B9_7F4A_7C15)
    var seen = [UInt64](repeating: 0, count: Self.pipelineLength + 1)
    var count: UInt64 = 0
    while !stop.isSet {
      let spins = Int(rng.next() % 256)
      let (marker, age) = cell.read { snapshot in
        snapshot.element._withUnsafeGuaranteedRef { element in
          let marker = element.marker.load(ordering: .relaxed)
          let first = element.age.load(ordering: .relaxed)
          linger(spins, seed: first == 0 ? 1 : 2)
          let second = element.age.load(ordering: .relaxed)
          return (marker, max(first, second))
        }
      }
      seen[min(age, Self.pipelineLength)] += 1
      if marker != Self.published {
        violations.record(
          .publishOrdering,
          "reader \(reader) saw an element whose marker was 0x\(String(marker, radix: 16))")
      }
      if age >= 2 {
        violations.record(
          .gracePeriodAge, "reader \(reader) held an element of pipeline age \(age)")
      }
      count += 1
      if count % 1024 == 0 { reads.add(1024, ordering: .relaxed) }
    }
    ages.withLock { total in for age in total.indices { total[age] += seen[age] } }
  }

  private func write() {
    var rng = SplitMix64(seed: seed ^ 0xD1B5_4A32_D192_ED03)
    var current = pool[0]
    var retired: [TortureElement] = []
    var free = Array(pool.dropFirst())
    while !stop.isSet {
      let next = free.removeLast()
      next.age.store(0, ordering: .relaxed)
      next.marker.store(Self.published, ordering: .relaxed)
      let old = cell.publish(TortureSnapshot(element: .passUnretained(next)))
      retired.append(current)
      current = next
      if skipGracePeriod {
        old.reclaimNow()
      } else if rng.next() % 4 == 0 {
        // The deferred path too: its callback runs only after a grace period, so the
        // synchronize below is still the one the ages count.
        old.reclaimDeferred()
        timedSynchronize()
      } else {
        let start = monotonicNanoseconds()
        old.reclaimAfterSynchronize()
        let waited = monotonicNanoseconds() - start
        gracePeriodWaits.withLock { _ = $0.record(waited) }
      }
      updates.add(1, ordering: .relaxed)
      // One more grace period has passed for everything already replaced.
      for element in retired { element.age.add(1, ordering: .relaxed) }
      let recycled = retired.filter { $0.age.load(ordering: .relaxed) >= Self.pipelineLength }
      retired.removeAll { $0.age.load(ordering: .relaxed) >= Self.pipelineLength }
      for element in recycled { element.marker.store(0, ordering: .relaxed) }
      free += recycled
    }
  }

  private func timedSynchronize() {
    let start = monotonicNanoseconds()
    Flavor.synchronize()
    let waited = monotonicNanoseconds() - start
    gracePeriodWaits.withLock { _ = $0.record(waited) }
  }
}
