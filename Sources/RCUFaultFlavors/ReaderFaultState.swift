import Glibc

/// What ``FaultyRCU`` remembers about the calling thread's read-side sections, to inject
/// the read-side faults while keeping the wrapped flavor's own lock and unlock calls
/// balanced.
struct ReaderFaultState {
  /// The nesting depth as the caller sees it.
  var depth = 0
  /// The rest of the current outermost section is unprotected: its lock was skipped, or
  /// an inner unlock ended it early.
  var unprotected = false
  /// Outermost locks taken by this thread, for "once in N".
  var outermostLocks = 0
  /// Unlocks of a section nested directly in an outermost one, for "once in N".
  var innerUnlocks = 0
  /// Outermost unlocks, for "once in N" of a reader that never leaves.
  var outermostUnlocks = 0

  /// The calling thread's state, created on first use and freed when the thread exits.
  static var current: UnsafeMutablePointer<ReaderFaultState> {
    if let existing = pthread_getspecific(key) {
      // Safe: the key only ever holds a pointer allocated below for this thread.
      return existing.assumingMemoryBound(to: ReaderFaultState.self)
    }
    let state = UnsafeMutablePointer<ReaderFaultState>.allocate(capacity: 1)
    state.initialize(to: ReaderFaultState())
    pthread_setspecific(key, state)
    return state
  }

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    let created = pthread_key_create(&key) { state in
      // Safe: runs once per thread at exit, with the pointer stored by `current`.
      state?.assumingMemoryBound(to: ReaderFaultState.self).deallocate()
    }
    precondition(created == 0, "out of pthread keys")
    return key
  }()
}
