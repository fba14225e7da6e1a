import HostSupport
import Synchronization

/// Starts one real pthread per index and returns them for joining. Each thread gets an
/// alternate signal stack first (``CrashGuard/prepareCurrentThread()``), so a crash on it
/// is reported even with its stack smashed.
func startThreads(
  _ count: Int, named role: String, _ body: @escaping @Sendable (Int) -> Void
) throws(SetupFailure) -> [HostThread] {
  var threads: [HostThread] = []
  for index in 0..<count {
    do {
      threads.append(
        try HostThread {
          CrashGuard.prepareCurrentThread()
          body(index)
        })
    } catch {
      for thread in threads { thread.join() }
      throw SetupFailure(message: "cannot start \(role) thread \(index): errno \(error.errno)")
    }
  }
  return threads
}

/// A flag one thread raises and others poll (a shared read-mostly cache line).
final class StopFlag: Sendable {
  private let raised = Atomic<Bool>(false)

  /// Raises the flag. Releasing: pairs with the acquiring load in ``isSet``.
  func set() { raised.store(true, ordering: .releasing) }

  /// Whether the flag was raised. Acquiring: pairs with ``set()``.
  var isSet: Bool { raised.load(ordering: .acquiring) }
}
