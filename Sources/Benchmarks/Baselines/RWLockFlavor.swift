import Glibc

/// A reader-writer lock around every lookup and device call, as Cloud Hypervisor and
/// Firecracker do with `RwLock<BTreeMap>`.
enum RWLockFlavor: BaselineFlavor {
  static var name: String { "rwlock" }
  @inline(__always) static func lockShared() { pthread_rwlock_rdlock(benchRWLock) }
  @inline(__always) static func unlockShared() { pthread_rwlock_unlock(benchRWLock) }
  static func lockExclusive() { pthread_rwlock_wrlock(benchRWLock) }
  static func unlockExclusive() { pthread_rwlock_unlock(benchRWLock) }
}

// Heap-allocated so that threads share it through a pointer, never through `&global` (which
// Swift's exclusivity checking would instrument). Never freed: it lives as long as the
// process. nonisolated(unsafe): the pointer is set once, at first use, and the lock it
// points to synchronizes every access to itself.
nonisolated(unsafe) private let benchRWLock: UnsafeMutablePointer<pthread_rwlock_t> = {
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
