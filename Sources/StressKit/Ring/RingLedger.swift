import ConcurrentBus
import Glibc
import HostSupport
import RCU
import Synchronization

/// Every ring registration of a run and the consumers that drain them: threads waiting on
/// an `EventPoller` each, and tasks iterating a ring's `AsyncSequence`. Each ring has one
/// consumer, which checks every entry as it arrives (``RingRecord``); a ring found finished
/// (sealed by the bus and drained) waits in ``settle(flushedBy:limit:)`` until the vCPUs'
/// claims for it are all in, for reconciliation.
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
  private let shortfalls: Shortfalls
  private let nextConsumer = Atomic<Int>(0)
  private let asyncRings = Atomic<UInt64>(0)
  private let openCount = Atomic<Int>(0)
  private let asyncOneIn: Int
  private let executor: ConsumerExecutor

  /// A ledger with `consumers` poller threads (started by ``startConsumers()``); one ring
  /// in `asyncOneIn` is consumed through its `AsyncSequence` instead (0: none).
  init(
    consumers: Int, asyncOneIn: Int, faults: RingFaultInjector, violations: Violations,
    shortfalls: Shortfalls
  ) throws(SetupFailure) {
    self.faults = faults
    self.violations = violations
    self.shortfalls = shortfalls
    self.asyncOneIn = asyncOneIn
    executor = try ConsumerExecutor()
    consumerThreads = try PollerThreads(count: consumers)
  }

  /// Rings consumed through their `AsyncSequence` so far.
  var asyncSequenceRings: UInt64 { asyncRings.load(ordering: .relaxed) }

  /// Rings added and not yet finished: each holds its lanes and its wakeup eventfd.
  var openRings: Int { openCount.load(ordering: .relaxed) }

  /// Starts the poller threads.
  func startConsumers() throws(SetupFailure) {
    try consumerThreads.start(named: "ring consumer") { self.consume($0) }
  }

  /// Stops the poller threads, waiting for them until `deadline`; returns whether they all
  /// stopped (then nothing but the caller drains a poller's ring any more).
  func stopPollers(until deadline: UInt64) -> Bool {
    consumerThreads.stop(until: deadline)
  }

  /// Stops the `AsyncSequence` consumers' executor, waiting for it until `deadline`.
  func stopExecutor(until deadline: UInt64) -> Bool { executor.stop(until: deadline) }

  /// Starts consuming a freshly registered ring: the pollers in turn, and every
  /// `asyncOneIn`-th ring through its `AsyncSequence`. Its wakeups may have come already:
  /// the eventfd keeps them, and the consumer finds them at once. Never fails: a ring whose
  /// `AsyncSequence` cannot start (no descriptor or thread for its signal thread) goes to
  /// a poller, and one no poller takes is drained at the end (both shortfalls noted), so a
  /// registered ring always has its record and its consumer.
  func add(_ ring: ValueRing, slot: Int) -> RingRecord {
    let next = nextConsumer.add(1, ordering: .relaxed).newValue
    var consumption = RingConsumption.poller(next % consumerThreads.pollers.count)
    var entries: ValueRingEntries?
    if asyncOneIn > 0 && next % asyncOneIn == 0 {
      do {
        entries = try ring.entries()
        consumption = .asyncSequence
      } catch {
        noteShortfall(error, "ring slot \(slot) cannot be consumed as an AsyncSequence")
      }
    }
    if case .poller(let index) = consumption {
      do {
        try consumerThreads.pollers[index].add(ring)
      } catch {
        noteShortfall(error, "ring slot \(slot): poller \(index) cannot watch its eventfd")
        consumption = .atTheEnd
      }
    }
    let record = RingRecord(
      ring: ring, slot: slot, consumption: consumption, faults: faults, violations: violations,
      shortfalls: shortfalls)
    openCount.add(1, ordering: .relaxed)
    tables.withAnnotatedLock(owner: self) { tables in
      tables.open[record.eventFDKey] = record
      if case .poller = consumption { tables.byEventFD[record.eventFDKey] = record }
    }
    if let entries {
      asyncRings.add(1, ordering: .relaxed)
      Task(executorPreference: executor) { [self] in
        for await entry in entries { record.take([entry]) }
        record.finish()
        finished(record)
      }
    }
    return record
  }

  private func noteShortfall(_ error: any Error, _ what: String) {
    shortfalls.record(ShortfallKind(exhaustion: error) ?? .memory, "\(what): \(error)")
  }

  /// Finished rings that every vCPU has flushed its claims for since (before `flushedBy`),
  /// at most `limit` of them, oldest first, handed over for reconciliation; `.max` takes
  /// every finished one.
  func settle(flushedBy: UInt64, limit: Int = .max) -> [RingRecord] {
    tables.withAnnotatedLock(owner: self) { tables in
      var ready: [RingRecord] = []
      tables.finished.removeAll { record in
        guard ready.count < limit, record.finishedTime < flushedBy else { return false }
        ready.append(record)
        return true
      }
      return ready
    }
  }

  /// The rings no consumer took, which the run drains itself (``drainAtTheEnd(_:)``).
  var orphans: [RingRecord] { unfinished.filter { $0.consumption == .atTheEnd } }

  /// Rings not yet finished.
  var unfinished: [RingRecord] {
    tables.withAnnotatedLock(owner: self) { Array($0.open.values) }
  }

  /// Waits until every ring consumed through its `AsyncSequence` has finished, or until
  /// `deadline`.
  func waitForAsyncRings(until deadline: UInt64) {
    while unfinished.contains(where: { $0.consumption == .asyncSequence })
      && monotonicNanoseconds() < deadline
    {
      usleep(1000)
    }
  }

  /// Drains `record` on the caller's thread: a ring no consumer took (``RingConsumption/atTheEnd``),
  /// while the run goes on, and at the end a poller's ring once its thread has stopped;
  /// returns whether it finished.
  func drainAtTheEnd(_ record: RingRecord) -> Bool {
    guard record.drain() == .finished else { return false }
    finished(record)
    return true
  }

  private func finished(_ record: RingRecord) {
    openCount.subtract(1, ordering: .relaxed)
    tables.withAnnotatedLock(owner: self) { tables in
      tables.open[record.eventFDKey] = nil
      tables.byEventFD[record.eventFDKey] = nil
      tables.finished.append(record)
    }
  }

  private func consume(_ cycle: PollerThreads.Cycle) {
    for (eventFD, _) in cycle.ready {
      let record = tables.withAnnotatedLock(owner: self) {
        $0.byEventFD[ObjectIdentifier(eventFD)]
      }
      guard let record, let ring = record.ring else { continue }
      // The poller drained the eventfd before this drain: a record made after it signals
      // again (ValueRing's wakeup protocol).
      guard record.drain() == .finished else { continue }
      try? cycle.poller.remove(ring)
      finished(record)
    }
  }
}
