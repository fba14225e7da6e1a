import ConcurrentBusCore
import HostSupport

/// A bus's eventfd totals, summed over every vCPU thread's shard when read.
public struct EventFDStatistics: Hashable, Sendable {
  /// Matched ioeventfd writes whose signal failed (counter full, descriptor gone): the write
  /// was still claimed, and the loss is reported here instead of silently.
  public var failedSignals: UInt64
}

/// The per-thread counters the ioeventfd devices of one bus add to.
enum EventFDCounter: Int, CaseIterable, Sendable {
  /// Matched ioeventfd writes whose eventfd could not be signalled.
  case failedSignals
}

/// The counters behind ``EventFDStatistics``, attached to their bus on its first ioeventfd
/// registration (see `BusAttachments`).
final class EventFDCounters: Sendable {
  let shards = ShardedCounters<EventFDCounter>()
}

extension IOBus {
  /// Failed ioeventfd signals so far on this bus, summed over every vCPU thread.
  public var eventFDStatistics: EventFDStatistics {
    EventFDStatistics(
      failedSignals: attachments.attachment(EventFDCounters.init).shards[.failedSignals])
  }
}
