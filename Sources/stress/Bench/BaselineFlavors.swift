import HostSupport
import Glibc
import RCU

// The baselines as RCUFlavor conformances: IOBus<Flavor> keeps the same table, the same
// lookup and the same device call, and only the read-side synchronization changes.
//
// Each flavor guards the one bus under test with a process-wide lock, because flavor
// requirements are static; the benchmark never runs two buses of one flavor at once.

/// No synchronization at all: the floor. Only sound while nothing is registered or
/// unregistered during the reads, so the benchmark runs it without churn only.
enum UnsynchronizedFlavor: RCUFlavor {
  static var name: String { "none" }
  static func registerCurrentThread() {}
  static func unregisterCurrentThread() {}
  @inline(__always) static func readLock() {}
  @inline(__always) static func readUnlock() {}
  static var isInReadSection: Bool { false }
  static func synchronize() {}
  static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) { work() }
  static func barrier() {}
}

/// A reader-writer lock around every lookup and device call, as Cloud Hypervisor and
/// Firecracker do with `RwLock<BTreeMap>`.
enum RWLockFlavor: RCUFlavor {
  static var name: String { "rwlock" }
  static func registerCurrentThread() {}
  static func unregisterCurrentThread() {}
  @inline(__always) static func readLock() { pthread_rwlock_rdlock(benchRWLock) }
  @inline(__always) static func readUnlock() { pthread_rwlock_unlock(benchRWLock) }
  static var isInReadSection: Bool { false }
  // Taking the write lock waits for every reader that holds the old table.
  static func synchronize() {
    pthread_rwlock_wrlock(benchRWLock)
    pthread_rwlock_unlock(benchRWLock)
  }
  static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    synchronize()
    work()
  }
  static func barrier() {}
}

/// A mutex around every lookup and device call, as crosvm does with `Mutex<BTreeMap>`.
enum MutexFlavor: RCUFlavor {
  static var name: String { "mutex" }
  static func registerCurrentThread() {}
  static func unregisterCurrentThread() {}
  @inline(__always) static func readLock() { pthread_mutex_lock(benchMutex) }
  @inline(__always) static func readUnlock() { pthread_mutex_unlock(benchMutex) }
  static var isInReadSection: Bool { false }
  static func synchronize() {
    pthread_mutex_lock(benchMutex)
    pthread_mutex_unlock(benchMutex)
  }
  static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    synchronize()
    work()
  }
  static func barrier() {}
}

// Heap-allocated so that threads share them through a pointer, never through `&global`
// (which Swift's exclusivity checking would instrument). Never freed: they live as long as
// the process. nonisolated(unsafe): each pointer is set once, at first use, and the lock
// it points to synchronizes every access to itself.
nonisolated(unsafe) let benchRWLock: UnsafeMutablePointer<pthread_rwlock_t> = {
  let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
  // Writer-preferring, like Rust's std::sync::RwLock that Cloud Hypervisor and Firecracker
  // use; glibc's default prefers readers and starves the writer under constant reads.
  var attributes = pthread_rwlockattr_t()
  pthread_rwlockattr_init(&attributes)
  pthread_rwlockattr_setkind_np(
    &attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
  pthread_rwlock_init(lock, &attributes)
  pthread_rwlockattr_destroy(&attributes)
  return lock
}()

nonisolated(unsafe) let benchMutex: UnsafeMutablePointer<pthread_mutex_t> = {
  let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  pthread_mutex_init(lock, nil)
  return lock
}()
