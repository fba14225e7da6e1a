import ConcurrentBus
import HostSupport
import RCU
import Synchronization

/// Every eventfd registration of a run, the consumer threads that drain them through
/// epoll, and the retirement that proves nothing signals an eventfd once its unregister
/// returned.
///
/// Life of a record: ``add(_:)`` puts it on its consumer's poller; consumers add what they
/// drain; ``retire(_:)`` (after its grace period) takes it off the poller, drains what is
/// pending and marks it; ``settle(settledFor:flushedBy:)`` later takes any signal that
/// arrived since (a `use-after-unregister`), and hands it back for reconciliation, after
/// which the run lets go of it, so a long run holds a bounded number of descriptors.
final class EventLedger<Key: Hashable & Sendable>: Sendable {
  private struct Tables {
    var byID: [RegistrationID: EventRecord<Key>] = [:]
    var byEventFD: [ObjectIdentifier: EventRecord<Key>] = [:]
    var retired: [EventRecord<Key>] = []
    var highestSettled: UInt64 = 0
  }

  private let tables = Mutex(Tables())
  private let consumerThreads: PollerThreads
  private let violations: Violations
  private let shortfalls: Shortfalls
  private let retiredCount = Atomic<Int>(0)
  /// For each consumer, when its last completed poll cycle began. A retired eventfd left
  /// its poller before being drained at retirement, so once every consumer has completed a
  /// cycle that began after that, no consumer can still hold a count for it.
  private let cycles: Mutex<[UInt64]>
  /// Settled records whose eventfd device the bus still held (``releasedByBus(_:)``).
  private let awaitingRelease = Mutex<[EventRecord<Key>]>([])

  /// A ledger with `consumers` pollers (each drained by its own thread once started).
  init(consumers: Int, violations: Violations, shortfalls: Shortfalls) throws(SetupFailure) {
    self.violations = violations
    self.shortfalls = shortfalls
    cycles = Mutex(Array(repeating: 0, count: consumers))
    consumerThreads = try PollerThreads(count: consumers)
  }

  /// How many consumers there are; records name theirs by index.
  var consumers: Int { consumerThreads.pollers.count }

  /// Starts the consumer threads.
  func startConsumers() throws(SetupFailure) {
    try consumerThreads.start(named: "consumer") { self.consume($0) }
  }

  /// Stops the consumer threads, waiting for them until `deadline`; returns whether they
  /// all ended. Until they have, a consumer may hold a count it has not added yet, and no
  /// count may be compared.
  func stopConsumers(until deadline: UInt64) -> Bool {
    consumerThreads.stop(until: deadline)
  }

  /// Records a new registration and puts its eventfd on its consumer's poller. A poller
  /// that refuses it (epoll out of memory) is a shortfall, not a failure: the record stays,
  /// its signals are taken when it retires and at the end, and the counts stay exact.
  func add(_ record: EventRecord<Key>) {
    tables.withAnnotatedLock(owner: self) {
      $0.byID[record.registration.id] = record
      $0.byEventFD[ObjectIdentifier(record.eventFD)] = record
    }
    do {
      try consumerThreads.pollers[record.consumer].add(record.eventFD)
    } catch {
      shortfalls.record(
        ShortfallKind(exhaustion: error) ?? .memory,
        "consumer \(record.consumer) cannot watch \(record.registration.id): \(error)")
    }
  }

  /// Retired records not yet settled: each holds its eventfd open.
  var retiredAwaiting: Int { retiredCount.load(ordering: .relaxed) }

  /// Takes a record whose unregister returned (or whose release ran) off its poller,
  /// takes the signals pending on it, and marks it: any signal found on it from now on is
  /// a reader the grace period failed to wait for.
  func retire(_ record: EventRecord<Key>) {
    try? consumerThreads.pollers[record.consumer].remove(record.eventFD)
    record.addDrained(record.eventFD.drain())
    record.retire()
    tables.withAnnotatedLock(owner: self) { $0.retired.append(record) }
    retiredCount.add(1, ordering: .relaxed)
  }

  /// Retired records that have been retired for `settledFor` nanoseconds, before
  /// `flushedBy` (the time by which whatever else counts for them, vCPU claims, has been
  /// flushed) and before every consumer's last cycle; `settledFor` 0 takes them all (at
  /// the end, once everything stopped). Late signals on them are reported and counted;
  /// the caller reconciles them and they are gone after that.
  func settle(settledFor: UInt64, flushedBy: UInt64 = .max) -> [EventRecord<Key>] {
    let readyBy = min(flushedBy, cycles.withAnnotatedLock(owner: self) { $0.min() ?? 0 })
    let now = monotonicNanoseconds()
    let ready = tables.withAnnotatedLock(owner: self) { tables in
      let isReady = { (record: EventRecord<Key>) in
        settledFor == 0
          || (record.retiredTime < readyBy && record.retiredTime + settledFor < now)
      }
      let ready = tables.retired.filter(isReady)
      guard !ready.isEmpty else { return [EventRecord<Key>]() }
      tables.retired.removeAll(where: isReady)
      retiredCount.subtract(ready.count, ordering: .relaxed)
      for record in ready {
        tables.byID[record.registration.id] = nil
        tables.byEventFD[ObjectIdentifier(record.eventFD)] = nil
        tables.highestSettled = max(tables.highestSettled, record.registration.id.rawValue)
      }
      return ready
    }
    for record in ready { takeLateSignals(record) }
    return ready
  }

  /// Anything found on a retired registration's eventfd arrived after its unregister
  /// returned.
  private func takeLateSignals(_ record: EventRecord<Key>) {
    let late = record.eventFD.drain()
    guard late > 0 else { return }
    violations.record(
      .useAfterUnregister,
      "eventfd registration \(record.registration.id) was signalled \(late) time(s) after its unregister returned"
    )
    record.addDrained(late)
  }

  /// Takes `record` once it settled, and keeps it if the bus still holds its eventfd
  /// device, for ``takeAwaitingRelease()``: the bus lets go of a device when the last
  /// snapshot naming it is reclaimed, after that snapshot's own grace period, which a
  /// loaded machine (or a fault that released the tool's side early) can delay past the
  /// settling time. Returns whether the bus has let go already.
  func releasedByBus(_ record: EventRecord<Key>) -> Bool {
    guard record.busDevice != nil else { return true }
    awaitingRelease.withAnnotatedLock(owner: self) { $0.append(record) }
    return false
  }

  /// The settled records the bus still held when they settled, to look at again after the
  /// final barrier, when every deferred reclamation has run: any still held is a leak.
  func takeAwaitingRelease() -> [EventRecord<Key>] {
    awaitingRelease.withAnnotatedLock(owner: self) { records in
      defer { records = [] }
      return records
    }
  }

  /// Whether `id` belonged to a record that was settled and let go.
  func wasSettled(_ id: RegistrationID) -> Bool {
    tables.withAnnotatedLock(owner: self) {
      $0.byID[id] == nil && id.rawValue <= $0.highestSettled
    }
  }

  /// Every record not yet settled, after a final drain of each.
  func drainAll() -> [EventRecord<Key>] {
    let all = tables.withAnnotatedLock(owner: self) { Array($0.byID.values) }
    for record in all { record.addDrained(record.eventFD.drain()) }
    return all
  }

  private func consume(_ cycle: PollerThreads.Cycle) {
    // One lookup of the whole cycle's eventfds: 64 consumers taking the lock once per
    // eventfd made it the run's most contended lock.
    let records = tables.withAnnotatedLock(owner: self) { tables in
      cycle.ready.map { tables.byEventFD[ObjectIdentifier($0.eventFD)] }
    }
    for (record, (_, count)) in zip(records, cycle.ready) {
      guard let record else {
        violations.record(
          .spuriousSignal,
          "consumer \(cycle.consumer) drained \(count) signal(s) from an eventfd with no record")
        continue
      }
      record.addDrained(count)
    }
    cycles.withAnnotatedLock(owner: self) { $0[cycle.consumer] = cycle.began }
  }
}
