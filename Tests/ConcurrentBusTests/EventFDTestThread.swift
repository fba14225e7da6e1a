import Glibc

/// A real pthread running one closure, for tests that need blocking work off the test's thread.
final class EventFDTestThread: Sendable {
  private final class Body: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
  }

  private let thread: pthread_t

  /// Starts `body` on a new thread.
  ///
  /// Nonisolated so the entry closure is never main-actor isolated (that traps on the new thread).
  nonisolated init(_ body: @escaping @Sendable () -> Void) {
    // The thread owns this +1 reference and releases it when the body returns.
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
      &thread, nil,
      { context in
        // Balances passRetained in init; context is that pointer, never nil.
        Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
        return nil
      }, context)
    precondition(result == 0, "pthread_create failed: \(result)")
    self.thread = thread
  }

  /// Waits for the body to return; call once.
  func join() {
    pthread_join(thread, nil)
  }
}
