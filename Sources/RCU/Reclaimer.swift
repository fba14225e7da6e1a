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
/// - a pool of reclaimer threads per flavor (started on first use) shares two duties. One
///   thread at a time *leads*: it sleeps until work arrives, takes everything queued, waits
///   for one grace period for the whole batch (work that arrives meanwhile waits for the
///   next one), then gives up the lead and runs the batch's works itself, with no
///   hand-over to another thread on the way;
/// - a thread that takes up a duty (the lead, or a work) first makes sure that a free
///   thread is left for the other duties, waking or starting one (up to ``maximumThreads``),
///   so a work that blocks delays no other work and no later grace period;
/// - ``barrier()`` waits until every work enqueued before the call has run.
///
/// Works run on threads that are not registered with any flavor: a work that reads under
/// QSBR must register first (the others register lazily).
final class Reclaimer: @unchecked Sendable {
  // @unchecked: `intake`, `nextTicket` and `started` are atomics, `wake` is a POSIX
  // semaphore (thread-safe itself), and `state` is only touched with `monitor` locked.

  /// Most reclaimer threads alive at once: this many works may block at the same time
  /// without delaying the others; beyond that, works wait for a thread to come back.
  static let maximumThreads = 64
  /// Threads kept when idle: the leader and one free thread to take over the lead while
  /// the leader runs the batch it waited for.
  static let idleThreads = 2
  /// How long a spare thread waits for a duty before it exits.
  static let spareThreadLifetimeNanos = 1_000_000_000

  /// The flavor's name, for thread names and messages.
  let name: String
  private let synchronize: @Sendable () -> Void
  /// The newest queued work (a retained ``PendingWork``), linked to older ones by `next`.
  private let intake = Atomic<UnsafeMutableRawPointer?>(nil)
  private let nextTicket = Atomic<UInt64>(0)
  private let started = Atomic<Bool>(false)
  /// Posted when the intake goes from empty to non-empty.
  private let wake = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
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
    let ticket = nextTicket.wrappingAdd(1, ordering: .relaxed).oldValue
    let pending = PendingWork(work, ticket: ticket)
    let node = Unmanaged.passRetained(pending).toOpaque()
    var head = intake.load(ordering: .relaxed)
    while true {
      pending.next = head
      // Releasing: the reclaimer's acquiring exchange in `takeAll` sees `next` and the work.
      let (pushed, current) = intake.compareExchange(
        expected: head, desired: node, successOrdering: .releasing, failureOrdering: .relaxed)
      if pushed { break }
      head = current
    }
    // Only the push onto an empty intake wakes the reclaimer: until its exchange empties
    // the intake again, it will take every later push with this one.
    if head == nil {
      startIfNeeded()
      sem_post(wake)
    }
  }

  /// Waits until every work enqueued before the call has run.
  func barrier() {
    let target = nextTicket.load(ordering: .relaxed)
    monitor.lock()
    state.barrierWaiters += 1
    while state.finishedBelow < target { monitor.wait(for: .workFinished) }
    state.barrierWaiters -= 1
    monitor.unlock()
  }

  private func startIfNeeded() {
    guard !started.load(ordering: .acquiring),
      started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
        .exchanged
    else { return }
    monitor.lock()
    let running = provideFreeThreadLocked()
    monitor.unlock()
    if !running { fatalError("RCU \(name): cannot start a reclaimer thread") }
  }

  /// The leader's duty: sleeps until work arrives, takes everything queued, and waits for a
  /// grace period that began after all of it was queued. Returns the works, oldest first.
  func waitForBatch() -> [PendingWork] {
    while true {
      while sem_wait(wake) != 0 {}  // Only EINTR.
      if let batch = takeAll() {
        synchronize()
        return batch
      }
    }
  }

  /// Empties the intake; the works come back oldest first.
  private func takeAll() -> [PendingWork]? {
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

/// One queued work.
final class PendingWork: @unchecked Sendable {
  // @unchecked: `next` is written only by the enqueuing thread before the releasing
  // compare-exchange publishes the node, and read only after the acquiring exchange that
  // takes it.
  let work: @Sendable () -> Void
  /// Its place in enqueue order, for ``Reclaimer/barrier()``.
  let ticket: UInt64
  var next: UnsafeMutableRawPointer?

  init(_ work: @escaping @Sendable () -> Void, ticket: UInt64) {
    self.work = work
    self.ticket = ticket
  }
}

extension RCUFlavor {
  /// Aborts when the caller is inside a read-side section, where waiting for a grace
  /// period (directly, or for deferred work that waits for one) would wait for the caller
  /// itself: a deadlock, turned into a message.
  static func requireOutsideReadSection(_ operation: String) {
    if isInReadSection {
      fatalError("\(Self.self).\(operation) inside a read-side section would deadlock")
    }
  }
}
