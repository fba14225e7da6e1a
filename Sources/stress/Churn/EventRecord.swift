import ConcurrentBus
import Synchronization

/// The tool's own bookkeeping for one eventfd registration: everything drained from it,
/// and whether its unregister has returned.
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
  private let retiredFlag = Atomic<Bool>(false)

  init(eventFD: EventFD, registration: Registration, churned: Bool, consumer: Int, busDevice: IOEventFD?) {
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
  func retire() { retiredFlag.store(true, ordering: .releasing) }

  /// Whether ``retire()`` ran.
  var isRetired: Bool { retiredFlag.load(ordering: .acquiring) }
}

/// All eventfd records of a run, found by registration and by eventfd.
final class EventRecords: Sendable {
  private struct Tables {
    var byID: [RegistrationID: EventRecord] = [:]
    var byEventFD: [ObjectIdentifier: EventRecord] = [:]
  }

  private let tables = Mutex(Tables())

  func insert(_ record: EventRecord) {
    tables.withLock {
      $0.byID[record.registration.id] = record
      $0.byEventFD[ObjectIdentifier(record.eventFD)] = record
    }
  }

  func record(for eventFD: EventFD) -> EventRecord? {
    tables.withLock { $0.byEventFD[ObjectIdentifier(eventFD)] }
  }

  func record(for id: RegistrationID) -> EventRecord? {
    tables.withLock { $0.byID[id] }
  }

  var all: [EventRecord] { tables.withLock { Array($0.byID.values) } }
}
