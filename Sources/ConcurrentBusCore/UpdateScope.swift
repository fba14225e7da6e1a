import Glibc

/// Whether the calling thread is running the body of some bus's ``IOBus/update(reclaim:_:)``,
/// that is, holds a writer lock.
///
/// Kept per thread (a pthread key) and read only on the writer path, never on dispatch. The
/// bus refuses every writer call made while the flag is set: the same bus would lock its
/// non-recursive `Mutex` twice, another bus could lock in the opposite order on another
/// thread (ABBA), and a grace-period wait would be made with a lock held that a vCPU thread
/// inside a read-side section may be waiting for.
enum UpdateScope {
  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key, nil)
    precondition(status == 0, "pthread_key_create failed (\(status))")
    return key
  }()

  /// True inside an update body on this thread.
  static var isActive: Bool { pthread_getspecific(key) != nil }

  /// Runs `body` with the flag set on this thread.
  static func run<Result: ~Copyable, Failure: Error>(
    _ body: () throws(Failure) -> Result
  ) throws(Failure) -> Result {
    // Any non-nil pointer marks the thread; nothing is ever stored behind it.
    pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
    defer { pthread_setspecific(key, nil) }
    return try body()
  }
}
