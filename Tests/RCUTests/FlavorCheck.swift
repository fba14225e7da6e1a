import Dispatch
import Glibc
import HostSupport
import RCU
import Synchronization

/// The properties every flavor must have, each a check that returns what went wrong (nil
/// when it passed). Named by a Codable value so that a child process can run one.
enum FlavorCheck: String, Codable, CaseIterable, Sendable {
  case gracePeriodWaitsForReader
  case deferredWorkWaitsForReader
  case deferredWorkRunsOnceEach
  case deferralFromSectionsAndWorks
  case blockingWorkDelaysNoOther
  case readSectionIsTrackedExactly
  case unregisteredThreadsRead

  func failure(on flavor: any RCUFlavor.Type) throws -> String? {
    switch self {
    case .gracePeriodWaitsForReader: try checkGracePeriodWaitsForReader(flavor)
    case .deferredWorkWaitsForReader: try checkDeferredWorkWaitsForReader(flavor)
    case .deferredWorkRunsOnceEach: try checkDeferredWorkRunsOnceEach(flavor)
    case .deferralFromSectionsAndWorks: try checkDeferralFromSectionsAndWorks(flavor)
    case .blockingWorkDelaysNoOther: try checkBlockingWorkDelaysNoOther(flavor, patience: patience)
    case .readSectionIsTrackedExactly: try checkReadSectionIsTrackedExactly(flavor)
    case .unregisteredThreadsRead: try checkUnregisteredThreadsRead(flavor)
    }
  }
}

/// A reader parked inside its section keeps `synchronize` from returning.
func checkGracePeriodWaitsForReader<F: RCUFlavor>(_: F.Type) throws -> String? {
  let reader = try ParkedReader<F>()
  let finished = DispatchSemaphore(value: 0)
  _ = try HostThread {
    F.synchronize()
    finished.signal()
  }
  let early = finished.wait(timeout: .now() + temptation) == .success
  reader.leave()
  guard early || finished.wait(timeout: .now() + patience) == .success else {
    return "synchronize never returned after the reader left"
  }
  return early ? "synchronize returned while a reader was inside its section" : nil
}

/// A work deferred while a reader is inside its section runs only after the reader left,
/// exactly once, and before `barrier` returns.
func checkDeferredWorkWaitsForReader<F: RCUFlavor>(_: F.Type) throws -> String? {
  let reader = try ParkedReader<F>()
  let runs = Counter()
  F.deferUntilGracePeriod { runs.increment() }
  usleep(UInt32(200_000))
  let early = runs.value
  reader.leave()
  F.barrier()
  if early != 0 { return "a deferred work ran while an older reader was inside its section" }
  return runs.value == 1 ? nil : "the deferred work ran \(runs.value) times by barrier()"
}

/// Works deferred from several threads at once each run exactly once by `barrier`.
func checkDeferredWorkRunsOnceEach<F: RCUFlavor>(_: F.Type) throws -> String? {
  let perThread = 500
  let runs = (0..<4 * perThread).map { _ in Counter() }
  let threads = try (0..<4).map { thread in
    try HostThread {
      for index in thread * perThread..<(thread + 1) * perThread {
        F.deferUntilGracePeriod { runs[index].increment() }
      }
    }
  }
  for thread in threads { thread.join() }
  F.barrier()
  let wrong = runs.filter { $0.value != 1 }.count
  return wrong == 0 ? nil : "\(wrong) of \(runs.count) works did not run exactly once by barrier()"
}

/// Deferring inside a read-side section returns at once and the work waits for the
/// section to end; a work deferred from inside a work runs too, before a later barrier.
func checkDeferralFromSectionsAndWorks<F: RCUFlavor>(_: F.Type) throws -> String? {
  let fromSection = Counter()
  let ranDuringSection = try onRegisteredThread(F.self) {
    F.withReadSection {
      F.deferUntilGracePeriod { fromSection.increment() }
      usleep(UInt32(100_000))
      return fromSection.value != 0
    }
  }
  let outer = Counter()
  let inner = Counter()
  F.deferUntilGracePeriod {
    outer.increment()
    F.deferUntilGracePeriod { inner.increment() }
  }
  // The first barrier runs the outer work, which defers the inner one before it returns;
  // the second covers that.
  F.barrier()
  F.barrier()
  if ranDuringSection { return "a work deferred inside a section ran before the section ended" }
  let counts = (fromSection.value, outer.value, inner.value)
  return counts == (1, 1, 1) ? nil : "runs (from a section, outer, inner): \(counts), not 1 each"
}

/// A deferred work that blocks does not keep a later one from running.
func checkBlockingWorkDelaysNoOther<F: RCUFlavor>(
  _: F.Type, patience: DispatchTimeInterval
) throws -> String? {
  let gate = DispatchSemaphore(value: 0)
  let secondRan = DispatchSemaphore(value: 0)
  F.deferUntilGracePeriod { _ = gate.wait(timeout: .now() + .seconds(30)) }
  F.deferUntilGracePeriod { secondRan.signal() }
  let ran = secondRan.wait(timeout: .now() + patience) == .success
  gate.signal()
  F.barrier()
  return ran ? nil : "a deferred work waited for an unrelated one that blocked"
}

/// `isInReadSection` is true exactly inside (nested) sections.
func checkReadSectionIsTrackedExactly<F: RCUFlavor>(_: F.Type) throws -> String? {
  let seen = try onRegisteredThread(F.self) {
    var seen = [F.isInReadSection]
    F.readLock()
    seen.append(F.isInReadSection)
    F.readLock()
    seen.append(F.isInReadSection)
    F.readUnlock()
    seen.append(F.isInReadSection)
    F.readUnlock()
    seen.append(F.isInReadSection)
    return seen
  }
  let expected = [false, true, true, true, false]
  return seen == expected ? nil : "isInReadSection outside, in, nested, in, out: \(seen)"
}

/// Threads nobody registered (Dispatch workers, plain threads) read safely: they register
/// on their first section, so a grace period waits for them.
func checkUnregisteredThreadsRead<F: RCUFlavor>(_: F.Type) throws -> String? {
  let destroyed = Counter()
  let cell = RCUPublished<F, CountedPayload>(CountedPayload(value: 7, destroyed: destroyed))
  let sum = Atomic<Int>(0)
  DispatchQueue.concurrentPerform(iterations: 64) { _ in
    sum.add(cell.read { $0.value }, ordering: .relaxed)
  }
  // A thread that never registered, parked inside a section, holds the next grace period.
  // (A plain thread rather than a Dispatch worker: parking one of Dispatch's few workers
  // would stall the other tests that use them.)
  let inside = DispatchSemaphore(value: 0)
  let release = DispatchSemaphore(value: 0)
  let reader = try HostThread {
    cell.read { _ in
      inside.signal()
      release.wait()
    }
  }
  inside.wait()
  let reclaimed = DispatchSemaphore(value: 0)
  _ = try HostThread {
    cell.publish(CountedPayload(value: 8, destroyed: destroyed)).reclaimAfterSynchronize()
    reclaimed.signal()
  }
  let early = reclaimed.wait(timeout: .now() + temptation) == .success
  release.signal()
  reader.join()
  guard early || reclaimed.wait(timeout: .now() + patience) == .success else {
    return "synchronize never returned after the reader left"
  }
  if early { return "a grace period did not wait for a reader that never registered" }
  let total = sum.load(ordering: .relaxed)
  if total != 64 * 7 { return "64 reads summed to \(total), not \(64 * 7)" }
  return destroyed.value == 1 ? nil : "\(destroyed.value) snapshots destroyed, not 1"
}

/// A payload that counts its own destruction, so tests can see exactly when a snapshot is
/// reclaimed.
struct CountedPayload: ~Copyable {
  let value: Int
  let destroyed: Counter

  deinit { destroyed.increment() }
}
