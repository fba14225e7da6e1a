import Dispatch
import HostSupport
import RCU
import Synchronization

/// How long a check waits for something that must happen before it calls it lost: a guard
/// against hanging, never a timing assertion.
let patience = DispatchTimeInterval.seconds(10)

/// How long a check gives a flavor to do what it must not (return from a grace period,
/// run a deferred work) while a reader is still inside its section.
let temptation = DispatchTimeInterval.milliseconds(200)

/// A reader thread parked inside a read-side section until ``leave()``.
final class ParkedReader<F: RCUFlavor>: Sendable {
  private let inside = DispatchSemaphore(value: 0)
  private let release = DispatchSemaphore(value: 0)
  private let thread: HostThread

  /// Starts the thread, which registers, enters a section, runs `body` there and parks;
  /// returns once it is parked.
  init(inside body: @escaping @Sendable () -> Void = {}) throws {
    let inside = inside
    let release = release
    thread = try HostThread {
      F.registerCurrentThread()
      F.withReadSection {
        body()
        inside.signal()
        release.wait()
      }
      F.unregisterCurrentThread()
    }
    inside.wait()
  }

  /// Lets the reader leave its section and unregister, and waits for its thread to end.
  func leave() {
    release.signal()
    thread.join()
  }
}

/// Runs `body` on a new thread registered with `F` (and unregistered afterwards), and
/// returns its result.
func onRegisteredThread<F: RCUFlavor, Result: Sendable>(
  _: F.Type, _ body: @escaping @Sendable () -> Result
) throws -> Result {
  let result = Mutex<Result?>(nil)
  let thread = try HostThread {
    F.registerCurrentThread()
    let value = body()
    F.unregisterCurrentThread()
    result.withLock { $0 = value }
  }
  thread.join()
  return result.withLock { $0! }
}

/// Runs `body` on a new thread and reports whether it finished within `timeout` (the
/// thread is left running if not).
func finishes(
  within timeout: DispatchTimeInterval, _ body: @escaping @Sendable () -> Void
) throws -> Bool {
  let done = DispatchSemaphore(value: 0)
  _ = try HostThread {
    body()
    done.signal()
  }
  return done.wait(timeout: .now() + timeout) == .success
}

/// A counter many threads bump.
final class Counter: Sendable {
  private let count = Atomic<Int>(0)
  func increment() { count.add(1, ordering: .relaxed) }
  var value: Int { count.load(ordering: .relaxed) }
}
