import Glibc

/// A mutex around every lookup and device call, as crosvm does with `Mutex<BTreeMap>`; a
/// grace period takes the same mutex.
enum MutexFlavor: BaselineFlavor {
  static var name: String { "mutex" }
  @inline(__always) static func lockShared() { pthread_mutex_lock(benchMutex) }
  @inline(__always) static func unlockShared() { pthread_mutex_unlock(benchMutex) }
  static func lockExclusive() { pthread_mutex_lock(benchMutex) }
  static func unlockExclusive() { pthread_mutex_unlock(benchMutex) }
}

// Heap-allocated and never freed, for the reasons `benchRWLock` gives. nonisolated(unsafe):
// set once, at first use; the mutex synchronizes every access to itself.
nonisolated(unsafe) private let benchMutex: UnsafeMutablePointer<pthread_mutex_t> = {
  let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  pthread_mutex_init(lock, nil)
  return lock
}()
