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

  var description: String {
    switch self {
    case .poller(let index): "ring consumer thread \(index) (EventPoller)"
    case .asyncSequence: "a task (AsyncSequence)"
    }
  }
}

/// The engine's bookkeeping for one ring registration: its registrations as moves replace
/// them (each with its retirement index once retired), and what its one consumer drained,
/// checked entry by entry as it arrives.
final class RingRecord: Sendable {
  let ring: ValueRing
  /// The churned ring slot it occupies.
  let slot: Int
  let consumption: RingConsumption
  private let ids: Mutex<[(id: RegistrationID, retiredAt: UInt64?)]>
  private let stream: Mutex<Stream>
  private let finishedAt = Atomic<UInt64>(0)

  /// The consumer's side: only its one consumer touches it, so the lock is never contended.
  private struct Stream: Sendable {
    var log = RingDeliveryLog()
    var filter: RingFaultFilter
    /// Sequence numbers drained from the ring, before any fault: writes and losses.
    var drained: UInt64 = 0
    var batch: [RingEntry] = []
    var filtered: [RingEntry] = []
  }

  init(ring: ValueRing, slot: Int, consumption: RingConsumption, faults: RingFaultInjector) {
    self.ring = ring
    self.slot = slot
    self.consumption = consumption
    ids = Mutex([(ring.registration.id, nil)])
    stream = Mutex(Stream(filter: RingFaultFilter(faults)))
  }

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

  /// Drains what the ring holds now and checks it; returns whether the ring is finished
  /// (sealed and empty). For the poller consumer.
  func drain(violations: Violations) -> ValueRing.DrainState {
    stream.withAnnotatedLock(owner: self) { stream in
      let state = ring.drain(into: &stream.batch)
      take(&stream, violations: violations)
      if state == .finished { finish(&stream, violations: violations) }
      return state
    }
  }

  /// Checks entries the ring's `AsyncSequence` delivered.
  func take(_ entries: [RingEntry], violations: Violations) {
    stream.withAnnotatedLock(owner: self) { stream in
      stream.batch += entries
      take(&stream, violations: violations)
    }
  }

  /// The ring's `AsyncSequence` ended: the ring is finished.
  func finish(violations: Violations) {
    stream.withAnnotatedLock(owner: self) { finish(&$0, violations: violations) }
  }

  private func take(_ stream: inout Stream, violations: Violations) {
    for entry in stream.batch {
      stream.drained += UInt64(entry.sequences.count)
      stream.filter.pass(entry, to: &stream.filtered)
    }
    stream.batch.removeAll(keepingCapacity: true)
    check(&stream, violations: violations)
  }

  private func finish(_ stream: inout Stream, violations: Violations) {
    stream.filter.finish(to: &stream.filtered)
    check(&stream, violations: violations)
    // Releasing: pairs with the acquiring load in `finishedTime`.
    finishedAt.store(monotonicNanoseconds(), ordering: .releasing)
  }

  /// Feeds the checker what passed the fault filter.
  private func check(_ stream: inout Stream, violations: Violations) {
    for entry in stream.filtered {
      if let problem = stream.log.record(entry) {
        violations.record(.ringSequence, "ring slot \(slot) (\(ring.registration.id)): \(problem)")
      }
      if case .lost(let loss) = entry {
        violations.record(
          .ringOverflow,
          "ring slot \(slot) (\(ring.registration.id)): \(loss.count) write(s) of "
            + "\(loss.producer) lost to a full lane (capacity \(ring.capacity), consumed by "
            + "\(consumption))")
      }
    }
    stream.filtered.removeAll(keepingCapacity: true)
  }

  /// When the ring was found finished (monotonic nanoseconds), or 0. Acquiring: pairs with
  /// the releasing store in `finish`.
  var finishedTime: UInt64 { finishedAt.load(ordering: .acquiring) }

  /// What the consumer delivered to the checker, and how many sequence numbers it drained
  /// before any fault. Read once the ring is finished.
  var delivery: (log: RingDeliveryLog, drained: UInt64) {
    stream.withAnnotatedLock(owner: self) { ($0.log, $0.drained) }
  }
}
