import CURCU
import HostSupport

// The reclaimer's threads and their two duties: leading (waiting for work and for its grace
// period) and running works whose grace period has passed.
//
// Invariant (under the monitor): whenever a duty is open (no leader, or ready works), a
// free thread exists to take it, unless ``Reclaimer/maximumThreads`` are all busy. Every
// thread that takes up a duty re-establishes it before starting, so no open duty ever
// waits behind a busy thread.

extension Reclaimer {
  func threadLoop() {
    nameCurrentThread("reclaim")
    monitor.lock()
    while true {
      if !state.hasLeader {
        state.hasLeader = true
        takeDutyLocked()
        monitor.unlock()
        let batch = waitForBatch()
        monitor.lock()
        state.ready.append(contentsOf: batch)
        state.hasLeader = false
        // Run the batch's first work right here (no hand-over on the way), after making
        // sure another thread takes the lead and any other ready work.
        let first = state.ready.popFirst()!
        coverOpenDutiesLocked()
        runLocked(first)
      } else if let pending = state.ready.popFirst() {
        takeDutyLocked()
        runLocked(pending)
      } else if !waitForDutyLocked() {
        break
      }
    }
    monitor.unlock()
  }

  /// Makes sure a free thread will look at the open duties: wakes one, or starts one.
  /// Returns false only when no thread runs and none could be started.
  func provideFreeThreadLocked() -> Bool {
    if state.freeThreads > 0 {
      monitor.signal(.dutyOpen)
      return true
    }
    guard state.threads < Self.maximumThreads else { return true }
    state.threads += 1
    state.freeThreads += 1
    do {
      _ = try HostThread { [self] in threadLoop() }
      return true
    } catch {
      // Out of threads: the open duties wait for a busy thread to come back.
      state.threads -= 1
      state.freeThreads -= 1
      return state.threads > 0
    }
  }

  /// The calling free thread takes up a duty.
  private func takeDutyLocked() {
    state.freeThreads -= 1
    coverOpenDutiesLocked()
  }

  private func coverOpenDutiesLocked() {
    if !state.hasLeader || !state.ready.isEmpty { _ = provideFreeThreadLocked() }
  }

  /// Runs a work with the monitor unlocked, records that it finished, and frees the thread.
  private func runLocked(_ pending: PendingWork) {
    monitor.unlock()
    // The grace period the batch waited for ends before the work starts: acquire what
    // every reader released on leaving its section (CURCU.h).
    curcu_tsan_grace_period_end()
    pending.work()
    monitor.lock()
    state.finish(pending.ticket)
    if state.barrierWaiters > 0 { monitor.broadcast(.workFinished) }
    state.freeThreads += 1
  }

  /// Waits to be woken for a duty; false when this thread has been spare for too long and
  /// has left the pool.
  private func waitForDutyLocked() -> Bool {
    let woken = monitor.wait(for: .dutyOpen, nanoseconds: Self.spareThreadLifetimeNanos)
    guard !woken, state.hasLeader, state.ready.isEmpty, state.threads > Self.idleThreads
    else { return true }
    state.threads -= 1
    state.freeThreads -= 1
    return false
  }
}

/// Everything the reclaimer's monitor protects.
struct ReclaimerState {
  /// Works whose grace period has passed, oldest first.
  var ready = WorkQueue()
  /// Whether a thread holds the lead (waits for work or for a grace period).
  var hasLeader = false
  /// Reclaimer threads alive.
  var threads = 0
  /// Threads holding no duty (waiting to be woken, or about to look for a duty).
  var freeThreads = 0
  /// Threads inside ``Reclaimer/barrier()``.
  var barrierWaiters = 0
  /// Every work whose ticket is below this has finished.
  var finishedBelow: UInt64 = 0
  /// Finished works with higher tickets (works finish out of order).
  var finishedAhead = Set<UInt64>()

  mutating func finish(_ ticket: UInt64) {
    guard ticket == finishedBelow else {
      finishedAhead.insert(ticket)
      return
    }
    finishedBelow += 1
    while finishedAhead.remove(finishedBelow) != nil { finishedBelow += 1 }
  }
}

/// A FIFO queue of works that lets go of each work as soon as it is taken.
struct WorkQueue {
  private var slots: [PendingWork?] = []
  private var head = 0

  var isEmpty: Bool { head == slots.count }

  mutating func append(contentsOf works: [PendingWork]) {
    slots.append(contentsOf: works.lazy.map { Optional($0) })
  }

  mutating func popFirst() -> PendingWork? {
    guard head < slots.count else { return nil }
    let first = slots[head]
    slots[head] = nil
    head += 1
    if head == slots.count {
      slots.removeAll(keepingCapacity: true)
      head = 0
    }
    return first
  }
}
