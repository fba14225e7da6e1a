import Glibc

/// A pthread mutex with two condition variables, for the reclaimer's threads.
///
/// pthread rather than `Synchronization.Mutex`: the reclaimer needs to wait for conditions,
/// and ThreadSanitizer sees pthread hand-overs (a contended `Mutex` is passed on inside the
/// kernel, where it cannot).
final class Monitor: @unchecked Sendable {
  // @unchecked: the pthread objects live in allocated memory that is never moved or freed
  // while in use, and pthread makes every operation on them thread-safe.
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let conditions = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 2)

  /// The two things waiters wait for.
  enum Condition: Int {
    /// The lead is free or a work is ready (free reclaimer threads wait for it).
    case dutyOpen = 0
    /// A work has finished (barriers wait for it).
    case workFinished = 1
  }

  init() {
    pthread_mutex_init(mutex, nil)
    var attributes = pthread_condattr_t()
    pthread_condattr_init(&attributes)
    // Timed waits measure monotonic time, immune to wall-clock changes.
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
    for index in 0..<2 { pthread_cond_init(conditions + index, &attributes) }
    pthread_condattr_destroy(&attributes)
  }

  deinit {
    for index in 0..<2 { pthread_cond_destroy(conditions + index) }
    conditions.deallocate()
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  func lock() { pthread_mutex_lock(mutex) }

  func unlock() { pthread_mutex_unlock(mutex) }

  /// Waits for `condition` to be signalled (or a spurious wake-up). The caller holds the
  /// lock, and holds it again on return.
  func wait(for condition: Condition) {
    pthread_cond_wait(conditions + condition.rawValue, mutex)
  }

  /// `wait(for:)` that gives up after `nanoseconds`; false if it timed out.
  func wait(for condition: Condition, nanoseconds: Int) -> Bool {
    var deadline = timespec()
    clock_gettime(CLOCK_MONOTONIC, &deadline)
    let total = deadline.tv_nsec + nanoseconds
    deadline.tv_sec += total / 1_000_000_000
    deadline.tv_nsec = total % 1_000_000_000
    return pthread_cond_timedwait(conditions + condition.rawValue, mutex, &deadline) != ETIMEDOUT
  }

  /// Wakes one waiter of `condition`.
  func signal(_ condition: Condition) { pthread_cond_signal(conditions + condition.rawValue) }

  /// Wakes every waiter of `condition`.
  func broadcast(_ condition: Condition) {
    pthread_cond_broadcast(conditions + condition.rawValue)
  }
}
