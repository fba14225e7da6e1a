import ConcurrentBus
import HostSupport
import RCU
import Synchronization

/// Consumer threads, each waiting on an epoll poller of its own, 20 ms at a time, until
/// stopped: what the eventfd and ring ledgers drain their eventfds with.
final class PollerThreads: Sendable {
  /// One poller per thread; a record names its consumer by the poller's index.
  let pollers: [EventPoller]
  private let stopFlag = StopFlag()
  private let threads = Mutex<[RunThread]>([])

  /// `count` pollers, whose threads ``start(named:_:)`` starts.
  init(count: Int) throws(SetupFailure) {
    do {
      pollers = try (0..<count).map { _ throws(EventFDError) in try EventPoller() }
    } catch {
      throw SetupFailure(message: "cannot create an epoll poller: \(error)")
    }
  }

  /// One wait of one consumer thread.
  struct Cycle {
    /// The consumer: its poller's index.
    let consumer: Int
    let poller: EventPoller
    /// When the wait began (monotonic nanoseconds).
    let began: UInt64
    /// The eventfds the poller found ready, with the counts it drained from them.
    let ready: [(eventFD: EventFD, count: UInt64)]
  }

  /// Starts one thread per poller (named `role` in errors), each handing every wait's result
  /// to `cycle` until ``stop()``.
  func start(named role: String, _ cycle: @escaping @Sendable (Cycle) -> Void)
    throws(SetupFailure)
  {
    let started = try startThreads(pollers.count, named: role) { [self] consumer in
      let poller = pollers[consumer]
      while !stopFlag.isSet {
        let began = monotonicNanoseconds()
        let ready = (try? poller.wait(timeout: .milliseconds(20))) ?? []
        cycle(Cycle(consumer: consumer, poller: poller, began: began, ready: ready))
      }
    }
    threads.withAnnotatedLock(owner: self) { $0 = started }
  }

  /// Stops the threads and waits for them until `deadline`; returns whether they all
  /// ended.
  func stop(until deadline: UInt64) -> Bool {
    stopFlag.set()
    return threads.withAnnotatedLock(owner: self, { $0 }).join(until: deadline) == 0
  }
}
