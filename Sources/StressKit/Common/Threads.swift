import Glibc
import HostSupport
import Synchronization

/// A thread of a run: a real pthread that can be joined with a deadline, so that winding
/// down never waits past the run's budget for a thread that is still busy.
final class RunThread: Sendable {
  private let thread: HostThread

  fileprivate init(_ body: @escaping @Sendable () -> Void) throws(ThreadStartError) {
    thread = try HostThread(body)
  }

  /// Waits for the thread to end.
  func join() { thread.join() }

  /// Waits for the thread to end, but not past `deadline` (monotonic nanoseconds), nor once
  /// `givingUp` says there is no point (a stall was reported: the thread may never end);
  /// returns whether it ended (and was joined). A thread given up on is detached: if it
  /// ends later, it frees itself (ThreadSanitizer reported such threads as leaked).
  func join(until deadline: UInt64, givingUp: () -> Bool = { false }) -> Bool {
    // Not `hasFinished` then `join()`: a thread whose body returned can still block in its
    // exit, and the join would wait past the deadline (a second, beside two CPU hogs).
    while !thread.tryJoin() {
      if monotonicNanoseconds() >= deadline || givingUp() {
        Self.abandoned.store(true, ordering: .relaxed)
        thread.detach()
        return false
      }
      usleep(1000)
    }
    return true
  }

  /// Joins the thread if it has ended, without waiting (``HostThread/tryJoin()``).
  func tryJoin() -> Bool { thread.tryJoin() }

  /// Stops anyone from waiting for the thread: it frees itself when it ends.
  func detach() { thread.detach() }

  /// Whether the thread's body has returned.
  var hasFinished: Bool { thread.hasFinished }

  /// Set once a run of this process left a thread behind (a join that gave up): the
  /// command must then end the process with `_exit` once its report is out, since the
  /// thread may hold a lock an exit handler needs.
  static let abandoned = Atomic<Bool>(false)
}

extension [RunThread] {
  /// Joins every thread that ends by `deadline` (and before `givingUp` says to stop
  /// waiting); returns how many did not.
  func join(until deadline: UInt64, givingUp: () -> Bool = { false }) -> Int {
    reduce(0) { $0 + ($1.join(until: deadline, givingUp: givingUp) ? 0 : 1) }
  }
}

/// How a thread of a run is scheduled against the others.
enum ThreadPriority {
  /// As the process: the thread that runs the run, its progress line, the checker's
  /// consumers, its bounded waits.
  case normal
  /// Nice 10: the workload (vCPUs, hotplug, torture readers and writers). With hundreds of
  /// them on two loaded cores, the thread that keeps the run's time (and the checker that
  /// keeps up with it) must still get the CPU when it asks: at equal priority it waited
  /// behind every worker for each of its steps, and a run ended seconds late.
  case lowered
}

/// Starts one real pthread per index and returns them for joining. Each thread gets an
/// alternate signal stack first (``CrashGuard/prepareCurrentThread()``), so a crash on it
/// is reported even with its stack smashed.
func startThreads(
  _ count: Int, named role: String, priority: ThreadPriority = .normal,
  _ body: @escaping @Sendable (Int) -> Void
) throws(SetupFailure) -> [RunThread] {
  var threads: [RunThread] = []
  for index in 0..<count {
    do {
      threads.append(
        try RunThread {
          CrashGuard.prepareCurrentThread()
          if priority == .lowered {
            // On Linux, PRIO_PROCESS with 0 is the calling thread alone (nice is a property
            // of each task); lowering it needs no privilege.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
          }
          body(index)
        })
    } catch {
      for thread in threads { thread.join() }
      throw SetupFailure(message: "cannot start \(role) thread \(index): errno \(error.errno)")
    }
  }
  return threads
}

/// Runs `body` on a thread of its own and waits for it until `deadline`: true when it
/// returned in time. For blocking calls at the end of a run (a final `barrier()`) that
/// must not hold the run past its budget; a body still running is left to finish alone.
func finishes(
  by deadline: UInt64, givingUp: () -> Bool = { false }, _ body: @escaping @Sendable () -> Void
) -> Bool {
  guard let thread = try? startThreads(1, named: "bounded wait", { _ in body() }).first else {
    body()
    return true
  }
  return thread.join(until: deadline, givingUp: givingUp)
}

/// Runs `body` on a thread of its own and returns what it returns, if it returns by
/// `deadline`; nil otherwise (the body is left to finish alone).
func result<Value: Sendable>(
  by deadline: UInt64, givingUp: () -> Bool = { false }, _ body: @escaping @Sendable () -> Value
) -> Value? {
  let box = ResultBox<Value>()
  guard finishes(by: deadline, givingUp: givingUp, { box.store(body()) }) else { return nil }
  return box.value
}

/// A value one thread stores and another reads once the first has ended.
private final class ResultBox<Value: Sendable>: Sendable {
  private let stored = Mutex<Value?>(nil)

  func store(_ value: Value) { stored.withLock { $0 = value } }

  var value: Value? { stored.withLock { $0 } }
}

/// A flag one thread raises and others poll (a shared read-mostly cache line).
final class StopFlag: Sendable {
  private let raised = Atomic<Bool>(false)

  /// Raises the flag. Releasing: pairs with the acquiring load in ``isSet``.
  func set() { raised.store(true, ordering: .releasing) }

  /// Whether the flag was raised. Acquiring: pairs with ``set()``.
  var isSet: Bool { raised.load(ordering: .acquiring) }
}
