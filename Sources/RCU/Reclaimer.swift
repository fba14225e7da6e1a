import CURCU
import Glibc
import HostSupport
import Synchronization

/// A flavor's own deferred-work reclaimer, in place of liburcu's `call_rcu`.
///
/// liburcu's `call_rcu` worker naps about 10 ms between batches, so a deferred unregister
/// took at least that long on an idle bus, and it runs every callback on one thread, so one
/// callback that blocks holds up every other release. Here:
/// - ``enqueue(_:)`` pushes onto a lock-free stack and returns: it never blocks and never
///   waits for a grace period, so it may be called inside a read-side section and from
///   inside a deferred work;
/// - a pool of reclaimer threads per flavor (started on first use) waits on one semaphore,
///   posted once when the queue goes from empty to non-empty and once per ready work. The
///   thread it wakes takes everything queued, waits for one grace period for the whole
///   batch (work that arrives meanwhile wakes another thread and waits for a grace period
///   of its own), posts the batch's other works for the other threads, and runs the first
///   one itself: nothing is handed over between threads on the way;
/// - a thread that takes up a batch or a work and leaves no other thread waiting starts a
///   new one first (up to ``maximumThreads``), so a work that blocks delays no other work
///   and no later grace period;
/// - ``barrier()`` waits until every work enqueued before the call has run;
/// - while works arrive less than ``spinNanos`` apart (a VMM releasing devices one after
///   another), the thread that finishes a duty polls the intake for that long, yielding the
///   CPU between polls, before it sleeps: the next work then costs its enqueuer no futex
///   wake (an IPI to an idle CPU, 2-10 us on a VM) and waits for no thread wake-up (3-8 us).
///   Works further apart (churn at 1000 updates/s is 1 ms apart) never make it poll.
///
/// Works run on threads that are not registered with any flavor: a work that reads under
/// QSBR must register first (the others register lazily).
final class Reclaimer: @unchecked Sendable {
  // @unchecked: `intake`, `nextTicket` and `started` are atomics, `wake` is a POSIX
  // semaphore (thread-safe itself), and `state` is only touched with `monitor` locked.

  /// Most reclaimer threads alive at once: this many works may block at the same time
  /// without delaying the others; beyond that, works wait for a thread to come back.
  static let maximumThreads = 64
  /// Threads kept when idle: one to take the next batch while another may still be busy
  /// with the previous one, so that neither has to wake or start a thread for the other.
  static let idleThreads = 2
  /// How long a spare thread waits for a duty before it exits.
  static let spareThreadLifetimeNanos = 1_000_000_000
  /// Works arriving closer together than this make the thread that finishes a duty poll
  /// this long for the next one before it sleeps: a few times the gap between a release
  /// and the next unregister of a caller that waits for each (5-15 us here).
  static let spinNanos: UInt64 = 50_000

  /// The flavor's name, for thread names and messages.
  let name: String
  let synchronize: @Sendable () -> Void
  /// The newest queued work (a retained ``PendingWork``), linked to older ones by `next`.
  let intake = Atomic<UnsafeMutableRawPointer?>(nil)
  private let nextTicket = Atomic<UInt64>(0)
  private let started = Atomic<Bool>(false)
  /// When the latest work was enqueued, and whether it came within ``spinNanos`` of the one
  /// before it (relaxed: a hint for polling, never for correctness).
  private let lastArrival = Atomic<UInt64>(0)
  let arrivalsClose = Atomic<Bool>(false)
  /// Whether a thread is polling the intake (at most one does): an enqueuer then does not
  /// post, since the poller will take its work.
  let polling = Atomic<Bool>(false)
  /// Posted when the intake goes from empty to non-empty, and once per ready work.
  let wake = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
  let monitor = Monitor()
  var state = ReclaimerState()

  /// A reclaimer that waits for grace periods with `synchronize` (called from threads that
  /// are not registered with the flavor).
  init(name: String, synchronize: @escaping @Sendable () -> Void) {
    self.name = name
    self.synchronize = synchronize
    sem_init(wake, 0, 0)
  }

  // Flavors keep their reclaimer in a static property: it lives as long as the process and
  // its threads never end, so there is no deinit to write.

  /// Queues `work` to run after a grace period that begins after this call. Returns at once.
  func enqueue(_ work: @escaping @Sendable () -> Void) {
    let now = monotonicNanos()
    let previous = lastArrival.exchange(now, ordering: .relaxed)
    arrivalsClose.store(now &- previous < Self.spinNanos, ordering: .relaxed)
    let ticket = nextTicket.wrappingAdd(1, ordering: .relaxed).oldValue
    let pending = PendingWork(work, ticket: ticket)
    let node = Unmanaged.passRetained(pending).toOpaque()
    var head = intake.load(ordering: .relaxed)
    while true {
      pending.next = head
      // Releasing: pairs with the acquiring exchange in `takeAll`, which then sees `next`
      // and the work. Sequentially consistent too: see the `polling` load below.
      let (pushed, current) = intake.compareExchange(
        expected: head, desired: node, successOrdering: .sequentiallyConsistent,
        failureOrdering: .relaxed)
      if pushed { break }
      head = current
    }
    // Only the push onto an empty intake wakes the reclaimer: until its exchange empties
    // the intake again, it will take every later push with this one. No post while a thread
    // polls: the push and this load, and the poller's store of false and its look at the
    // intake as it stops (`stopPolling`), are sequentially consistent, so either this load
    // sees false and posts, or that look sees the push (and the poller posts for it).
    if head == nil {
      startIfNeeded()
      // Pairs with the store of false and the load of the intake in `stopPolling`.
      if !polling.load(ordering: .sequentiallyConsistent) { sem_post(wake) }
    }
  }

  /// Waits until every work enqueued before the call has run.
  func barrier() {
    let target = nextTicket.load(ordering: .relaxed)
    monitor.lock()
    state.barrierWaiters += 1
    while state.finishedBelow < target { monitor.wait() }
    state.barrierWaiters -= 1
    monitor.unlock()
  }

  private func startIfNeeded() {
    // The load and the compare-exchange pair with the compare-exchange of the one caller
    // that wins: only it starts the threads (their state is ordered by `monitor`).
    guard !started.load(ordering: .acquiring),
      started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
        .exchanged
    else { return }
    monitor.lock()
    var running = 0
    for _ in 0..<Self.idleThreads where startThreadLocked() { running += 1 }
    monitor.unlock()
    if running == 0 { fatalError("RCU \(name): cannot start a reclaimer thread") }
  }

  /// Empties the intake; the works come back oldest first.
  func takeAll() -> [PendingWork]? {
    // Acquiring: pairs with the releasing push in `enqueue`.
    var node = intake.exchange(nil, ordering: .acquiring)
    guard node != nil else { return nil }
    var batch: [PendingWork] = []
    while let pointer = node {
      // Safe: every node in the intake holds the retain made by `enqueue`, taken back once.
      let pending = Unmanaged<PendingWork>.fromOpaque(pointer).takeRetainedValue()
      node = pending.next
      batch.append(pending)
    }
    batch.reverse()
    return batch
  }

  /// Names the calling thread `rcu-NAME-ROLE` (for debuggers and `top -H`).
  func nameCurrentThread(_ role: String) {
    curcu_name_thread("rcu-\(name)-\(role)")
  }
}

/// Nanoseconds on `CLOCK_MONOTONIC`.
func monotonicNanos() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// One queued work.
final class PendingWork: @unchecked Sendable {
  // @unchecked: `next` is written only by the enqueuing thread before the releasing
  // compare-exchange publishes the node, and read only after the acquiring exchange that
  // takes it; `work` is taken only by the one thread that runs the node.
  private var work: (@Sendable () -> Void)?
  /// Its place in enqueue order, for ``Reclaimer/barrier()``.
  let ticket: UInt64
  var next: UnsafeMutableRawPointer?

  init(_ work: @escaping @Sendable () -> Void, ticket: UInt64) {
    self.work = work
    self.ticket = ticket
  }

  /// Runs the work and lets go of it (and of everything it captured) before returning, so
  /// that a ``Reclaimer/barrier()`` that sees it finished sees those released too.
  func runOnce() {
    let work = self.work.take()!
    work()
  }
}
