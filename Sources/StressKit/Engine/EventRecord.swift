import ConcurrentBus
import HostSupport
import Synchronization

/// The engine's bookkeeping for one eventfd registration: everything drained from it, and
/// when its unregister returned.
///
/// `Key` is what the command reconciles counts by: the registration itself for `churn`
/// (each record against the claims the vCPUs saw for it), the written (address, value)
/// for `kvm` (all records of a key together against the writes the guests executed).
final class EventRecord<Key: Hashable & Sendable>: @unchecked Sendable {
  // @unchecked: `busDevice` is written once, before the record is shared; the rest is
  // immutable or atomic.
  let eventFD: EventFD
  let key: Key
  let registration: Registration
  /// A hot-plugged registration rather than one that stays for the whole run.
  let churned: Bool
  /// Which consumer's poller it is on.
  let consumer: Int
  /// The bus's ioeventfd device, watched to prove the bus lets go of it.
  private(set) weak var busDevice: IOEventFD?
  private let drainedCount = Atomic<UInt64>(0)
  private let retiredAt = Atomic<UInt64>(0)

  init(
    eventFD: EventFD, key: Key, registration: Registration, churned: Bool, consumer: Int,
    busDevice: IOEventFD?
  ) {
    self.eventFD = eventFD
    self.key = key
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
  /// Releasing: pairs with the acquiring load in ``retiredTime``.
  func retire() { retiredAt.store(monotonicNanoseconds(), ordering: .releasing) }

  /// When ``retire()`` ran (monotonic nanoseconds), or 0. Acquiring: pairs with `retire`.
  var retiredTime: UInt64 { retiredAt.load(ordering: .acquiring) }
}
