import Glibc

/// A pthread mutex with a condition variable, for the reclaimer's state and its barriers.
///
/// pthread rather than `Synchronization.Mutex`: barriers need to wait for a condition, and
/// ThreadSanitizer sees pthread hand-overs (a contended `Mutex` is passed on inside the
/// kernel, where it cannot).
final class Monitor: @unchecked Sendable {
  // @unchecked: the pthread objects live in allocated memory that is never moved or freed
  // while in use, and pthread makes every operation on them thread-safe.
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(condition, nil)
  }

  deinit {
    pthread_cond_destroy(condition)
    condition.deallocate()
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  func lock() { pthread_mutex_lock(mutex) }

  func unlock() { pthread_mutex_unlock(mutex) }

  /// Waits to be woken by ``broadcast()`` (or spuriously). The caller holds the lock, and
  /// holds it again on return.
  func wait() { pthread_cond_wait(condition, mutex) }

  /// Wakes every waiter.
  func broadcast() { pthread_cond_broadcast(condition) }
}
