import Glibc

/// A one-shot signal between threads: a POSIX semaphore in allocated memory.
final class Completion: @unchecked Sendable {
  // @unchecked: the semaphore never moves, and sem_post/sem_wait are thread-safe.
  private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

  init() { sem_init(semaphore, 0, 0) }

  deinit {
    sem_destroy(semaphore)
    semaphore.deallocate()
  }

  /// Wakes the waiter; the post orders everything before it before the wait's return.
  func signal() { sem_post(semaphore) }

  /// Waits for ``signal()``.
  func wait() { while sem_wait(semaphore) != 0 {} }
}
