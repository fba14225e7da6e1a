import Glibc
import HostSupport
import RCU
import Synchronization

/// The toy RCU's deferred work: one thread that takes everything queued, waits for one
/// grace period of the variant, runs it all, and counts it finished; ``barrier()`` waits
/// for that count. Simple on purpose (a work that blocks holds up the rest): it serves the
/// toy flavors' checks, nothing else.
public final class ToyReclaimer: @unchecked Sendable {
  // @unchecked: `wake` is a POSIX semaphore, safe from any thread; it lives as long as the
  // process (variants keep their reclaimer in a static property).
  private let name: String
  private let synchronize: @Sendable () -> Void
  private let queue = Mutex<Queue>(Queue())
  private let finished = Atomic<UInt64>(0)
  private let started = Atomic<Bool>(false)
  private let wake = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

  private struct Queue {
    var works: [@Sendable () -> Void] = []
    /// Works ever queued: the ticket a barrier waits for.
    var queued: UInt64 = 0
  }

  /// A reclaimer whose grace periods are `synchronize`.
  init(name: String, synchronize: @escaping @Sendable () -> Void) {
    self.name = name
    self.synchronize = synchronize
    sem_init(wake, 0, 0)
  }

  /// Queues `work` to run after a grace period that begins after this call; returns at once.
  func enqueue(_ work: @escaping @Sendable () -> Void) {
    // Annotated: the reclaimer thread and every enqueuer contend for it (SanitizerHandoff).
    queue.withAnnotatedLock(owner: self) { queue in
      queue.works.append(work)
      queue.queued += 1
    }
    startIfNeeded()
    sem_post(wake)
  }

  /// Waits until every work queued before the call has run.
  func barrier() {
    let target = queue.withAnnotatedLock(owner: self) { $0.queued }
    // Acquiring: pairs with the releasing add in `serve`, so what the works did is visible.
    while finished.load(ordering: .acquiring) < target { usleep(50) }
  }

  private func startIfNeeded() {
    // Acquiring and releasing: pairs with the other callers' exchange; one starts the thread.
    guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
    do {
      try HostThread.detach { [self] in serve() }
    } catch {
      fatalError("\(name): cannot start the reclaimer thread (errno \(error.errno))")
    }
  }

  /// The thread: batches in queue order, one grace period each.
  private func serve() {
    while true {
      while sem_wait(wake) != 0 {}  // EINTR: wait again.
      let batch = queue.withAnnotatedLock(owner: self) { queue in
        defer { queue.works.removeAll() }
        return queue.works
      }
      guard !batch.isEmpty else { continue }
      synchronize()
      for work in batch { work() }
      // Releasing: pairs with the acquiring load in `barrier`.
      finished.add(UInt64(batch.count), ordering: .releasing)
    }
  }
}
