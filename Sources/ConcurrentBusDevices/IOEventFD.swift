import ConcurrentBusCore
import HostSupport
import Synchronization

/// The device behind an ioeventfd registration: each write that reaches it is one signal of
/// 1 on its eventfd, as KVM's `ioeventfd_write` does.
///
/// The bus creates it in
/// ``ConcurrentBusCore/IOBusTransaction/registerEventFD(_:address:size:match:)`` and owns it;
/// through it the bus keeps the eventfd open until a grace period after unregister.
public final class IOEventFD: IODevice {
  /// The eventfd this registration signals.
  public let eventFD: EventFD
  private let busCounters: ShardedCounters<EventFDCounter>
  // One counter per registration, written by every vCPU that hits it. Not sharded: each hit
  // is also an eventfd write(2), which takes the eventfd's own kernel lock (a shared cache
  // line far costlier than this add); `stress bench` measures the difference.
  private let hitCount = Atomic<UInt64>(0)
  private let failureCount = Atomic<UInt64>(0)

  init(eventFD: EventFD, busCounters: ShardedCounters<EventFDCounter>) {
    self.eventFD = eventFD
    self.busCounters = busCounters
  }

  /// Writes that matched and signalled the eventfd.
  public var hits: UInt64 { hitCount.load(ordering: .relaxed) }

  /// Writes that matched but whose signal failed (counted in the bus's
  /// `eventFDStatistics` too).
  public var failedSignals: UInt64 { failureCount.load(ordering: .relaxed) }

  /// ioeventfds take no reads; the access stays unclaimed.
  public func read(offset: UInt64, size: Int) -> UInt64? { nil }

  /// Signals the eventfd. The write is claimed even if the signal fails, as in KVM: the
  /// failure is counted, never a crash and never silent.
  public func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    if case .signalled = eventFD.trySignal() {
      hitCount.add(1, ordering: .relaxed)
    } else {
      failureCount.add(1, ordering: .relaxed)
      busCounters.add(.failedSignals)
    }
    return true
  }
}
