import ConcurrentBus
import Glibc
import HostSupport
import RCU
import Synchronization

/// Every ring registration of a run and the consumers that drain them: threads waiting on
/// an `EventPoller` each, and tasks iterating a ring's `AsyncSequence`. Each ring has one
/// consumer, which checks every entry as it arrives (``RingRecord``); a ring found finished
/// (sealed by the bus and drained) waits in ``settle(flushedBy:)`` until the vCPUs' claims
/// for it are all in, for reconciliation.
final class RingLedger: Sendable {
  private struct Tables {
    var byEventFD: [ObjectIdentifier: RingRecord] = [:]
    var open: [ObjectIdentifier: RingRecord] = [:]
    var finished: [RingRecord] = []
  }

  let faults: RingFaultInjector
  private let tables = Mutex(Tables())
  private let consumerThreads: PollerThreads
  private let violations: Violations
  private let nextConsumer = Atomic<Int>(0)
  private let asyncRings = Atomic<UInt64>(0)
  private let asyncOneIn: Int
  private let executor: ConsumerExecutor

  /// A ledger with `consumers` poller threads (started by ``startConsumers()``); one ring
  /// in `asyncOneIn` is consumed through its `AsyncSequence` instead (0: none).
  init(consumers: Int, asyncOneIn: Int, faults: RingFaultInjector, violations: Violations)
    throws(SetupFailure)
  {
    self.faults = faults
    self.violations = violations
    self.asyncOneIn = asyncOneIn
    executor = try ConsumerExecutor()
    consumerThreads = try PollerThreads(count: consumers)
  }

  /// Rings consumed through their `AsyncSequence` so far.
  var asyncSequenceRings: UInt64 { asyncRings.load(ordering: .relaxed) }

  /// Picks how the next ring is consumed: the pollers in turn, and every `asyncOneIn`-th
  /// ring through its `AsyncSequence`.
  func nextConsumption() -> RingConsumption {
    let next = nextConsumer.add(1, ordering: .relaxed).newValue
    if asyncOneIn > 0 && next % asyncOneIn == 0 { return .asyncSequence }
    return .poller(next % consumerThreads.pollers.count)
  }

  /// Starts the poller threads.
  func startConsumers() throws(SetupFailure) {
    try consumerThreads.start(named: "ring consumer") { self.consume($0) }
  }

  /// Stops the poller threads and the `AsyncSequence` consumers' executor.
  func stopConsumers() {
    consumerThreads.stop()
    executor.stop()
  }

  /// Starts consuming a new ring. Its wakeups may have come already: the eventfd keeps
  /// them, and the poller reports it at once.
  func add(_ record: RingRecord) throws(EventFDError) {
    let key = ObjectIdentifier(record.ring.eventFD)
    tables.withAnnotatedLock(owner: self) { $0.open[key] = record }
    switch record.consumption {
    case .poller(let index):
      tables.withAnnotatedLock(owner: self) { $0.byEventFD[key] = record }
      try consumerThreads.pollers[index].add(record.ring)
    case .asyncSequence:
      asyncRings.add(1, ordering: .relaxed)
      let entries = try record.ring.entries()
      Task(executorPreference: executor) { [self] in
        for await entry in entries { record.take([entry], violations: violations) }
        record.finish(violations: violations)
        finished(record)
      }
    }
  }

  /// Finished rings that every vCPU has flushed its claims for since (before `flushedBy`),
  /// handed over for reconciliation; `.max` takes every finished one.
  func settle(flushedBy: UInt64) -> [RingRecord] {
    tables.withAnnotatedLock(owner: self) { tables in
      let ready = tables.finished.filter { $0.finishedTime < flushedBy }
      tables.finished.removeAll { $0.finishedTime < flushedBy }
      return ready
    }
  }

  /// Waits up to `timeout` nanoseconds for every ring to finish (after the last unregister
  /// and a barrier, each must be sealed and its last wakeup sent); returns those that did not.
  func waitForAll(timeout: UInt64) -> [RingRecord] {
    let deadline = monotonicNanoseconds() + timeout
    while true {
      let open = tables.withAnnotatedLock(owner: self) { Array($0.open.values) }
      if open.isEmpty || monotonicNanoseconds() > deadline { return open }
      usleep(1000)
    }
  }

  private func finished(_ record: RingRecord) {
    tables.withAnnotatedLock(owner: self) { tables in
      let key = ObjectIdentifier(record.ring.eventFD)
      tables.open[key] = nil
      tables.byEventFD[key] = nil
      tables.finished.append(record)
    }
  }

  private func consume(_ cycle: PollerThreads.Cycle) {
    for (eventFD, _) in cycle.ready {
      let record = tables.withAnnotatedLock(owner: self) {
        $0.byEventFD[ObjectIdentifier(eventFD)]
      }
      guard let record else { continue }
      // The poller drained the eventfd before this drain: a record made after it signals
      // again (ValueRing's wakeup protocol).
      guard record.drain(violations: violations) == .finished else { continue }
      try? cycle.poller.remove(record.ring)
      finished(record)
    }
  }
}
