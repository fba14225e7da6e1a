import CURCU

/// Carries a Swift closure through liburcu's `call_rcu`, which only takes a C function and a
/// context pointer.
final class DeferredWork: Sendable {
  let work: @Sendable () -> Void

  init(_ work: @escaping @Sendable () -> Void) {
    self.work = work
  }

  /// The context to hand to C: one retain, released by ``run(_:)``.
  var retainedContext: UnsafeMutableRawPointer {
    Unmanaged.passRetained(self).toOpaque()
  }

  /// The C entry point: takes back the retain made by ``retainedContext`` and runs the work.
  static let run: curcu_callback = { context in
    // Safe: the context was made by `retainedContext`, and liburcu calls us exactly once.
    let deferred = Unmanaged<DeferredWork>.fromOpaque(context!).takeRetainedValue()
    deferred.work()
  }
}

/// Defers `work` with a flavor's C entry point, or, when the C node cannot be allocated,
/// waits for the grace period right here so nothing is lost.
@inline(never)
func deferWork(
  _ work: @escaping @Sendable () -> Void,
  enqueue: (curcu_callback, UnsafeMutableRawPointer) -> Bool,
  synchronize: () -> Void
) {
  let deferred = DeferredWork(work)
  let context = deferred.retainedContext
  if !enqueue(DeferredWork.run, context) {
    // Safe: liburcu never saw the context, so this balances retainedContext exactly once.
    Unmanaged<DeferredWork>.fromOpaque(context).release()
    synchronize()
    work()
  }
}
