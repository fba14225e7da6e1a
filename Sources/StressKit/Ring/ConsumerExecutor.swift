import Dispatch
import HostSupport
import RCU
import Synchronization

/// A task executor with one thread of its own, on which the rings' `AsyncSequence`
/// consumers run.
///
/// Not the global cooperative pool: a churn run blocks the thread that called it (a test
/// runs it on a pool thread), and the pool has one thread per core, so two runs at once
/// (two test suites) would leave no pool thread for the consumers, and their rings would
/// never be drained.
final class ConsumerExecutor: TaskExecutor, Sendable {
  private let jobs = Mutex<[UnownedJob]>([])
  private let ready = DispatchSemaphore(value: 0)
  private let stopFlag = StopFlag()
  private let thread = Mutex<RunThread?>(nil)

  /// Starts the executor's thread.
  init() throws(SetupFailure) {
    let started = try startThreads(1, named: "ring async consumer") { [self] _ in run() }
    thread.withAnnotatedLock(owner: self) { $0 = started.first }
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    jobs.withAnnotatedLock(owner: self) { $0.append(job) }
    ready.signal()
  }

  /// Stops the thread once the jobs queued so far have run, waiting for it until
  /// `deadline`; returns whether it ended.
  func stop(until deadline: UInt64) -> Bool {
    stopFlag.set()
    ready.signal()
    return thread.withAnnotatedLock(owner: self) { $0 }?.join(until: deadline) ?? true
  }

  private func run() {
    while true {
      ready.wait()
      let next = jobs.withAnnotatedLock(owner: self) { $0.isEmpty ? nil : $0.removeFirst() }
      guard let next else {
        if stopFlag.isSet { return }
        continue
      }
      next.runSynchronously(on: asUnownedTaskExecutor())
    }
  }
}
