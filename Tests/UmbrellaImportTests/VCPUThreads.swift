// The test's own vCPU threads, from Glibc (a system module, not part of the package): the
// client in VMMClientTests.swift imports ConcurrentBus alone.
import Glibc

/// Runs `body(index)` on `count` pthreads at once and waits for all of them.
func onVCPUThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
  final class Start: @unchecked Sendable {
    // @unchecked: immutable after init.
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }
  let threads = (0..<count).map { index -> pthread_t in
    var thread = pthread_t()
    let start = Unmanaged.passRetained(Start { body(index) }).toOpaque()
    let result = pthread_create(
      &thread, nil,
      { context in
        // Safe: the passRetained pointer below, handed to exactly this thread.
        Unmanaged<Start>.fromOpaque(context!).takeRetainedValue().body()
        return nil
      }, start)
    precondition(result == 0, "pthread_create failed: \(result)")
    return thread
  }
  for thread in threads { pthread_join(thread, nil) }
}
