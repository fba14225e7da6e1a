import BusModel
import ConcurrentBus
import HostSupport
import RCU
import Synchronization

/// How a ring's entries are consumed.
enum RingConsumption: Sendable, Equatable, CustomStringConvertible {
  /// By consumer thread `index`, which waits on its `EventPoller` and drains the ring after
  /// each wakeup (``ValueRing/drain(into:)``).
  case poller(Int)
  /// By a task iterating the ring's `AsyncSequence` (``ValueRing/entries()``).
  case asyncSequence
  /// By the run itself, at the end: the poller could not take the ring (a shortfall).
  case atTheEnd

  var description: String {
    switch self {
    case .poller(let index): "ring consumer thread \(index) (EventPoller)"
    case .asyncSequence: "a task (AsyncSequence)"
    case .atTheEnd: "the run's final drain"
    }
  }
}

/// The engine's bookkeeping for one ring registration: its registrations as moves replace
/// them (each with its retirement index once retired), and what its one consumer drained,
/// checked entry by entry as it arrives.
///
/// Once finished (sealed and drained) the record lets go of the ring, so its lanes and its
/// wakeup eventfd are freed before reconciliation: a finished ring costs only its delivery
/// log.
final class RingRecord: Sendable {
  /// The registration the ring was made with, which reports name it by.
  let id: RegistrationID
  /// The churned ring slot it occupies.
  let slot: Int
  let consumption: RingConsumption
  /// Records per producer lane.
  let capacity: Int
  /// The ring's wakeup eventfd's identity, which pollers report it by.
  let eventFDKey: ObjectIdentifier
  private let ids: Mutex<[(id: RegistrationID, retiredAt: UInt64?)]>
  private let stream: Mutex<Stream>
  private let violations: Violations
  private let shortfalls: Shortfalls
  private let finishedAt = Atomic<UInt64>(0)

  /// The consumer's side: only its one consumer touches it, so the lock is never contended.
  private struct Stream: Sendable {
    /// The ring, until it is finished.
    var ring: ValueRing?
    /// Its producers' counts, kept inside the device, as they stood when it finished.
    var statistics: ValueRingStatistics?
    var log = RingDeliveryLog()
    var filter: RingFaultFilter
    /// Sequence numbers drained from the ring, before any fault: writes and losses.
    var drained: UInt64 = 0
    var batch: [RingEntry] = []
    var filtered: [RingEntry] = []
  }

  /// The record of `ring`, in `slot`, consumed as `consumption` says; what its checks find
  /// goes to `violations`, and its lost writes (a consumer behind) to `shortfalls`.
  init(
    ring: ValueRing, slot: Int, consumption: RingConsumption, faults: RingFaultInjector,
    violations: Violations, shortfalls: Shortfalls
  ) {
    self.violations = violations
    self.shortfalls = shortfalls
    id = ring.registration.id
    capacity = ring.capacity
    eventFDKey = ObjectIdentifier(ring.eventFD)
    self.slot = slot
    self.consumption = consumption
    ids = Mutex([(ring.registration.id, nil)])
    stream = Mutex(Stream(ring: ring, filter: RingFaultFilter(faults)))
  }

  /// The ring, until it is finished.
  var ring: ValueRing? { stream.withAnnotatedLock(owner: self) { $0.ring } }

  /// A move replaced the registration: `id` feeds the ring from now on.
  func moved(to id: RegistrationID) {
    ids.withAnnotatedLock(owner: self) { $0.append((id, nil)) }
  }

  /// Registration `id` was unregistered (or moved away) and that call returned as
  /// retirement `index` (``RingRetirements``).
  func retire(_ id: RegistrationID, at index: UInt64) {
    ids.withAnnotatedLock(owner: self) { ids in
      if let at = ids.firstIndex(where: { $0.id == id }) { ids[at].retiredAt = index }
    }
  }

  /// Every registration that has fed the ring, oldest first, with its retirement index.
  var registrations: [(id: RegistrationID, retiredAt: UInt64?)] {
    ids.withAnnotatedLock(owner: self) { $0 }
  }

  /// Whether every registration that fed the ring has been unregistered or moved away: the
  /// bus owes it its seal after a grace period.
  var isRetired: Bool { registrations.allSatisfy { $0.retiredAt != nil } }

  /// Drains what the ring holds now and checks it; returns whether the ring is finished
  /// (sealed and empty). For the poller consumer, and for the run's final drain once the
  /// pollers have stopped.
  func drain() -> ValueRing.DrainState {
    stream.withAnnotatedLock(owner: self) { stream in
      guard let ring = stream.ring else { return .finished }
      let state = ring.drain(into: &stream.batch)
      take(&stream)
      if state == .finished { finish(&stream) }
      return state
    }
  }

  /// Checks entries the ring's `AsyncSequence` delivered.
  func take(_ entries: [RingEntry]) {
    stream.withAnnotatedLock(owner: self) { stream in
      stream.batch += entries
      take(&stream)
    }
  }

  /// The ring's `AsyncSequence` ended: the ring is finished.
  func finish() {
    stream.withAnnotatedLock(owner: self) { finish(&$0) }
  }

  private func take(_ stream: inout Stream) {
    for entry in stream.batch {
      stream.drained += UInt64(entry.sequences.count)
      stream.filter.pass(entry, to: &stream.filtered)
    }
    stream.batch.removeAll(keepingCapacity: true)
    check(&stream)
  }

  private func finish(_ stream: inout Stream) {
    stream.filter.finish(to: &stream.filtered)
    check(&stream)
    stream.statistics = stream.ring?.statistics
    stream.ring = nil
    // Releasing: pairs with the acquiring load in `finishedTime`.
    finishedAt.store(monotonicNanoseconds(), ordering: .releasing)
  }

  /// Feeds the checker what passed the fault filter. A loss (a lane that filled up) is the
  /// ring keeping its promise (the write claimed, its loss reported in its place) while
  /// the tool's consumer fell behind: a shortfall, whose values the delivery check skips,
  /// never a violation.
  private func check(_ stream: inout Stream) {
    for entry in stream.filtered {
      if let problem = stream.log.record(entry) {
        violations.record(.ringSequence, "ring slot \(slot) (\(id)): \(problem)")
      }
      if case .lost(let loss) = entry {
        shortfalls.record(
          .checker,
          "ring slot \(slot) (\(id)): \(loss.count) write(s) of \(loss.producer) lost to a "
            + "full lane (capacity \(capacity)): its consumer, \(consumption), fell behind")
      }
    }
    stream.filtered.removeAll(keepingCapacity: true)
  }

  /// When the ring was found finished (monotonic nanoseconds), or 0. Acquiring: pairs with
  /// the releasing store in `finish`.
  var finishedTime: UInt64 { finishedAt.load(ordering: .acquiring) }

  /// What the consumer delivered to the checker, how many sequence numbers it drained
  /// before any fault, and the producers' own counts as they stood at the end. Read once
  /// the ring is finished.
  var delivery: (log: RingDeliveryLog, drained: UInt64, statistics: ValueRingStatistics?) {
    stream.withAnnotatedLock(owner: self) { ($0.log, $0.drained, $0.statistics) }
  }
}
