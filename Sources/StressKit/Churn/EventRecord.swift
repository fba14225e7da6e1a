import HostSupport
import ConcurrentBus
import RCU
import Synchronization

/// The tool's own bookkeeping for one eventfd registration: everything drained from it,
/// and when its unregister returned.
final class EventRecord: @unchecked Sendable {
  // @unchecked: `busDevice` is written once, before the record is shared; the rest is atomic.
  let eventFD: EventFD
  let registration: Registration
  /// A churned registration (hot-plugged) rather than a stable one.
  let churned: Bool
  /// Which consumer's poller it is on.
  let consumer: Int
  /// The bus's ioeventfd device, watched to prove the bus lets go of it.
  private(set) weak var busDevice: IOEventFD?
  private let drainedCount = Atomic<UInt64>(0)
  private let retiredAt = Atomic<UInt64>(0)

  init(
    eventFD: EventFD, registration: Registration, churned: Bool, consumer: Int,
    busDevice: IOEventFD?
  ) {
    self.eventFD = eventFD
    self.registration = registration
    self.churned = churned
    self.consumer = consumer
    self.busDevice = busDevice
  }

  /// Adds signals taken from the eventfd (by a consumer or at retirement).
  func addDrained(_ count: UInt64) { drainedCount.add(count, ordering: .relaxed) }

  /// Everything drained so far.
  var drained: UInt64 { drainedCount.load(ordering: .relaxed) }

  /// Marks that its unregister returned and its pending signals were taken: any signal
  /// found afterwards came from a reader the grace period should have waited for.
  func retire() { retiredAt.store(monotonicNanoseconds(), ordering: .releasing) }

  /// When ``retire()`` ran (monotonic nanoseconds), or 0.
  var retiredTime: UInt64 { retiredAt.load(ordering: .acquiring) }

  /// Whether ``retire()`` ran.
  var isRetired: Bool { retiredTime != 0 }
}

/// All live eventfd records of a run, found by registration and by eventfd, plus the queue
/// of retired ones waiting to be reconciled and let go (so a long run holds a bounded
/// number of descriptors and records).
final class EventRecords: Sendable {
  private struct Tables {
    var byID: [RegistrationID: EventRecord] = [:]
    var byEventFD: [ObjectIdentifier: EventRecord] = [:]
    var retired: [EventRecord] = []
    var highestReconciled: UInt64 = 0
  }

  private let tables = Mutex(Tables())

  func insert(_ record: EventRecord) {
    tables.withAnnotatedLock(owner: self) {
      $0.byID[record.registration.id] = record
      $0.byEventFD[ObjectIdentifier(record.eventFD)] = record
    }
  }

  func record(for eventFD: EventFD) -> EventRecord? {
    tables.withAnnotatedLock(owner: self) { $0.byEventFD[ObjectIdentifier(eventFD)] }
  }

  /// Queues a retired record for reconciliation.
  func queueRetired(_ record: EventRecord) {
    tables.withAnnotatedLock(owner: self) { $0.retired.append(record) }
  }

  /// Takes the retired records that `isReady` accepts out of every table: the caller
  /// reconciles them and they are gone after that.
  func takeRetired(where isReady: (EventRecord) -> Bool) -> [EventRecord] {
    tables.withAnnotatedLock(owner: self) { tables in
      let ready = tables.retired.filter(isReady)
      guard !ready.isEmpty else { return [] }
      tables.retired.removeAll(where: isReady)
      for record in ready {
        tables.byID[record.registration.id] = nil
        tables.byEventFD[ObjectIdentifier(record.eventFD)] = nil
        tables.highestReconciled = max(tables.highestReconciled, record.registration.id.rawValue)
      }
      return ready
    }
  }

  /// Whether `id` belonged to a record that was reconciled and let go.
  func wasReconciled(_ id: RegistrationID) -> Bool {
    tables.withAnnotatedLock(owner: self) {
      $0.byID[id] == nil && id.rawValue <= $0.highestReconciled
    }
  }

  /// Every record not yet reconciled.
  var all: [EventRecord] { tables.withAnnotatedLock(owner: self) { Array($0.byID.values) } }
}

/// Claims the vCPUs saw per churned registration, flushed from each vCPU's own tally now
/// and then, with the time of each vCPU's last flush.
///
/// A vCPU flushes between dispatches, so once it has flushed after a registration retired,
/// every claim it will ever make for that registration (all from dispatches that began
/// before the unregister returned) is already here.
final class ClaimLedger: Sendable {
  private struct State {
    var claims: [RegistrationID: UInt64] = [:]
    var lastFlush: [UInt64]
  }

  private let state: Mutex<State>

  init(vcpus: Int) {
    state = Mutex(State(lastFlush: Array(repeating: 0, count: vcpus)))
  }

  func flush(_ claims: [RegistrationID: UInt64], vcpu: Int) {
    let now = monotonicNanoseconds()
    state.withAnnotatedLock(owner: self) { state in
      state.claims.merge(claims, uniquingKeysWith: +)
      state.lastFlush[vcpu] = now
    }
  }

  /// The time by which every vCPU has flushed at least once.
  var everyoneFlushedBy: UInt64 { state.withAnnotatedLock(owner: self) { $0.lastFlush.min() ?? 0 } }

  /// Removes and returns the claims for `id`.
  func take(_ id: RegistrationID) -> UInt64 {
    state.withAnnotatedLock(owner: self) { $0.claims.removeValue(forKey: id) ?? 0 }
  }

  /// Removes and returns every claim left.
  func takeAll() -> [RegistrationID: UInt64] {
    state.withAnnotatedLock(owner: self) { state in
      defer { state.claims = [:] }
      return state.claims
    }
  }
}
