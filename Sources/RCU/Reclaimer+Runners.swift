import CURCU
import HostSupport

// The runner pool: works whose grace period has passed, and the threads that run them.
//
// Invariant (under the monitor): while works are ready, at least one runner is free (about
// to look at the queue or waiting to be signalled), unless ``Reclaimer/maximumRunners`` are
// all busy. A runner that takes a work and leaves others behind makes sure of it before
// running its own, so a work that blocks never holds up the ones queued behind it.

extension Reclaimer {
  /// Hands works whose grace period has passed to the runners.
  func hand(_ batch: [PendingWork]) {
    monitor.lock()
    state.ready.append(contentsOf: batch)
    let hasRunner = provideRunnerLocked()
    monitor.unlock()
    if !hasRunner { runReadyHere() }
  }

  /// Makes sure a free runner will look at the ready queue: wakes one, or starts one.
  /// Returns false only when no runner exists and none could be started.
  private func provideRunnerLocked() -> Bool {
    if state.freeRunners > 0 {
      monitor.signal(.workReady)
      return true
    }
    guard state.runners < Self.maximumRunners else { return true }
    state.runners += 1
    state.freeRunners += 1
    do {
      _ = try HostThread { [self] in runnerLoop() }
      return true
    } catch {
      state.runners -= 1
      state.freeRunners -= 1
      return state.runners > 0
    }
  }

  /// The fallback when no runner thread can be started at all (the process is out of
  /// threads): the grace-period thread runs the ready works itself, one after another.
  private func runReadyHere() {
    while true {
      monitor.lock()
      let pending = state.ready.popFirst()
      monitor.unlock()
      guard let pending else { return }
      run(pending)
      monitor.lock()
      finishLocked(pending)
      monitor.unlock()
    }
  }

  private func runnerLoop() {
    nameCurrentThread("run")
    monitor.lock()
    while let pending = nextWorkLocked() {
      monitor.unlock()
      run(pending)
      monitor.lock()
      finishLocked(pending)
      state.freeRunners += 1
    }
    monitor.unlock()
  }

  /// Waits for a ready work and takes it, or returns nil when this runner has been spare
  /// for too long (its counts are then already removed).
  private func nextWorkLocked() -> PendingWork? {
    while state.ready.isEmpty {
      let signalled = monitor.wait(for: .workReady, nanoseconds: Self.spareRunnerLifetimeNanos)
      if !signalled && state.ready.isEmpty && state.runners > 1 {
        state.runners -= 1
        state.freeRunners -= 1
        return nil
      }
    }
    let pending = state.ready.popFirst()
    state.freeRunners -= 1
    if !state.ready.isEmpty { _ = provideRunnerLocked() }
    return pending
  }

  private func run(_ pending: PendingWork) {
    // The grace period the batch waited for ends before the work starts: acquire what
    // every reader released on leaving its section (CURCU.h).
    curcu_tsan_grace_period_end()
    pending.work()
  }

  private func finishLocked(_ pending: PendingWork) {
    state.finish(pending.ticket)
    if state.barrierWaiters > 0 { monitor.broadcast(.workFinished) }
  }
}

/// Everything the reclaimer's monitor protects.
struct RunnerState {
  /// Works whose grace period has passed, oldest first.
  var ready = WorkQueue()
  /// Runner threads alive.
  var runners = 0
  /// Runners not running a work (waiting, or about to look at `ready`).
  var freeRunners = 0
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
