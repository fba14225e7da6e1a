import CURCU

/// Carries a Swift closure through a C callback and context pointer: how ``LoadedRCU``
/// hands deferred work to a loaded library's `concurrentbus_rcu_call`.
final class DeferredWork: Sendable {
  let work: @Sendable () -> Void

  init(_ work: @escaping @Sendable () -> Void) {
    self.work = work
  }

  /// The context to hand to C: one retain, released by ``run``.
  var retainedContext: UnsafeMutableRawPointer {
    Unmanaged.passRetained(self).toOpaque()
  }

  /// Takes back the retain of a context the library never accepted.
  static func releaseUnused(_ context: UnsafeMutableRawPointer) {
    // Safe: the library refused the context, so nothing else will balance the retain.
    Unmanaged<DeferredWork>.fromOpaque(context).release()
  }

  /// The C entry point: takes back the retain made by ``retainedContext`` and runs the work.
  static let run: curcu_callback = { context in
    // The library's queue is invisible to ThreadSanitizer: acquire what curcu_loaded_call
    // released when it queued this context, then what readers released before the grace
    // period ended.
    curcu_tsan_acquire(context)
    curcu_tsan_grace_period_end()
    // Safe: the context was made by `retainedContext`, and the ABI runs a callback once.
    let deferred = Unmanaged<DeferredWork>.fromOpaque(context!).takeRetainedValue()
    deferred.work()
  }
}
