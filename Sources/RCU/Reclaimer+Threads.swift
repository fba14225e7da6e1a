import CURCU
import Glibc
import HostSupport

// The reclaimer's threads. Each waits on the `wake` semaphore and, once woken, takes one
// duty: a ready work (first), or the batch in the intake, whose grace period it waits for.
//
// Why nothing is lost: every duty is posted once, after it became visible (a ready work
// after it was appended, a batch after the push that made the intake non-empty: by its
// enqueuer, or by a polling thread that its enqueuer saw, see `Reclaimer.enqueue`), and each
// wake-up takes at most one duty; a post whose batch a poller took wakes a thread that finds
// nothing and waits again. Why nothing waits behind a blocked work: a thread that takes a
// duty and leaves no other thread waiting starts one first.

extension Reclaimer {
  /// What a woken thread takes up.
  enum Duty {
    /// A work whose grace period has passed.
    case work(PendingWork)
    /// Works whose grace period is still to wait for, oldest first.
    case batch([PendingWork])
  }

  func threadLoop() {
    nameCurrentThread("work")
    while let duty = nextDuty() {
      switch duty {
      case .work(let pending):
        run(pending)
      case .batch(let batch):
        // Begins after every work in `batch` was queued: a grace period each waits for.
        synchronize()
        // The first work right here; the others to whichever threads are waiting.
        monitor.lock()
        state.ready.append(contentsOf: batch.dropFirst())
        monitor.unlock()
        for _ in batch.dropFirst() { sem_post(wake) }
        run(batch[0])
      }
    }
  }

  /// Starts a thread that waits for duties. False if the process is out of threads.
  func startThreadLocked() -> Bool {
    guard state.threads < Self.maximumThreads else { return false }
    do {
      _ = try HostThread { [self] in threadLoop() }
    } catch {
      return false  // The duties wait for a busy thread to come back.
    }
    state.threads += 1
    state.waitingThreads += 1
    return true
  }

  /// Waits for a duty and takes it; nil when this thread has been spare for too long and
  /// has left the pool.
  private func nextDuty() -> Duty? {
    while true {
      if let batch = pollIntake() {
        monitor.lock()
        takeDutyLocked()
        monitor.unlock()
        return .batch(batch)
      }
      guard waitForWake() else {
        monitor.lock()
        // Leave only while another thread still waits, so no post goes unanswered.
        let leave = state.threads > Self.idleThreads && state.waitingThreads > 1
        if leave {
          state.threads -= 1
          state.waitingThreads -= 1
        }
        monitor.unlock()
        if leave { return nil } else { continue }
      }
      monitor.lock()
      if let pending = state.ready.popFirst() {
        takeDutyLocked()
        monitor.unlock()
        return .work(pending)
      }
      monitor.unlock()
      if let batch = takeAll() {
        monitor.lock()
        takeDutyLocked()
        monitor.unlock()
        return .batch(batch)
      }
      // A post whose duty another thread took already.
    }
  }

  /// Waits on `wake`; false when a spare thread (one beyond ``Reclaimer/idleThreads``)
  /// waited for the spare-thread lifetime in vain. The others wait without a timeout, so an
  /// idle reclaimer never wakes up.
  private func waitForWake() -> Bool {
    monitor.lock()
    let spare = state.threads > Self.idleThreads
    monitor.unlock()
    guard spare else {
      while sem_wait(wake) != 0 {}  // Only EINTR.
      return true
    }
    var deadline = timespec()
    clock_gettime(CLOCK_REALTIME, &deadline)  // sem_timedwait measures CLOCK_REALTIME.
    let total = deadline.tv_nsec + Self.spareThreadLifetimeNanos
    deadline.tv_sec += total / 1_000_000_000
    deadline.tv_nsec = total % 1_000_000_000
    while sem_timedwait(wake, &deadline) != 0 {
      if errno == ETIMEDOUT { return false }  // Otherwise EINTR: wait again.
    }
    return true
  }

  /// While works arrive close together, polls the intake for up to
  /// ``Reclaimer/spinNanos``, yielding the CPU every microsecond (a vCPU thread that wants it
  /// gets it); one thread at a time. Returns the batch it took, or nil (the thread then
  /// waits on `wake`).
  private func pollIntake() -> [PendingWork]? {
    guard arrivalsClose.load(ordering: .relaxed),
      polling.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
    else { return nil }
    let deadline = monotonicNanos() + Self.spinNanos
    repeat {
      // Loads for a microsecond between yields: a yield costs 0.5-1 us here, longer than
      // the hand-off it would wait for.
      let yieldAt = monotonicNanos() + 1000
      repeat {
        if intake.load(ordering: .relaxed) != nil, let batch = takeAll() {
          stopPolling()
          return batch
        }
      } while monotonicNanos() < yieldAt
      sched_yield()
    } while monotonicNanos() < deadline
    stopPolling()
    return nil
  }

  /// Ends a poll. An enqueuer that saw this thread polling did not post: if its work is in
  /// the intake, post for it now. Sequentially consistent, with the push and the `polling`
  /// load in `enqueue`: either that load saw `false`, and the enqueuer posted, or this look
  /// sees its push. (A work both posted for here and by its enqueuer only costs a thread
  /// a wake-up that finds nothing.)
  private func stopPolling() {
    // Both pair with the push and the `polling` load in `enqueue`, as said above.
    polling.store(false, ordering: .sequentiallyConsistent)
    if intake.load(ordering: .sequentiallyConsistent) != nil { sem_post(wake) }
  }

  /// The calling thread stops waiting; if no other thread is left waiting, starts one, so
  /// that the next duty never waits behind this one.
  private func takeDutyLocked() {
    state.waitingThreads -= 1
    if state.waitingThreads == 0 { _ = startThreadLocked() }
  }

  /// Runs a work, records that it finished, and makes the thread wait for duties again.
  private func run(_ pending: PendingWork) {
    // The grace period the work's batch waited for ends before the work starts: acquire
    // what every reader released on leaving its section (CURCU.h).
    curcu_tsan_grace_period_end()
    pending.runOnce()
    monitor.lock()
    state.finish(pending.ticket)
    if state.barrierWaiters > 0 { monitor.broadcast() }
    state.waitingThreads += 1
    monitor.unlock()
  }
}

/// Everything the reclaimer's monitor protects.
struct ReclaimerState {
  /// Works whose grace period has passed, oldest first; each has its post on `wake`.
  var ready = WorkQueue()
  /// Reclaimer threads alive.
  var threads = 0
  /// Threads waiting on `wake` (or about to), holding no duty.
  var waitingThreads = 0
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

  mutating func append(contentsOf works: ArraySlice<PendingWork>) {
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
