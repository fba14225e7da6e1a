import RCU

// Introspection reads the published snapshot inside a read-side section: no lock, so it
// works from anywhere, device callbacks and update bodies included (where it shows the bus
// as last published, before the batch under way), and from any thread on every flavor
// (QSBR attaches a thread that is not online for the read: see
// `RCUFlavor.withReadSectionFromAnyThread`).

extension IOBus {
  /// The registrations currently on the bus, in table order (value-matched, then ranges).
  public var registrations: [Registration] {
    published.readFromAnyThread { table in table.registrations() }
  }

  /// The device registered as `registration`, while it is on the bus: for an ioeventfd
  /// registration an `IOEventFD`, whose `hits` count its signals. `nil` for a registration
  /// this bus did not issue, or no longer holds.
  public func device(of registration: Registration) -> (any IODevice)? {
    guard registration.bus == identity else { return nil }
    return published.readFromAnyThread { table in table.device(of: registration) }
  }

  /// Unclaimed accesses so far, summed over every vCPU thread (failed eventfd signals are
  /// the devices' own: `eventFDStatistics`).
  public var statistics: IOBusStatistics {
    IOBusStatistics(
      unclaimedWrites: counters[.unclaimedWrites], unclaimedReads: counters[.unclaimedReads])
  }

  /// How many snapshots writers have published: one per successful register, move,
  /// unregister or batch.
  public var publishes: UInt64 { publishCount.load(ordering: .relaxed) }

  /// How many times a writer blocked for a grace period: once per synchronous unregister
  /// or batch that removed something, never for registrations or moves.
  public var gracePeriodWaits: UInt64 { gracePeriodWaitCount.load(ordering: .relaxed) }

  /// What waits for a grace period now: retired tables and removed devices, their bytes,
  /// and how long the oldest has waited. Empty after ``/RCU/RCUFlavor/barrier()`` once all
  /// updates have returned, unless something leaked. Takes a lock writers share (never one
  /// readers touch): for monitoring, not for a hot loop.
  public var reclamationBacklog: ReclamationBacklog { reclamations.backlog }

  /// Snapshots replaced but not yet reclaimed. Zero after ``/RCU/RCUFlavor/barrier()`` once all
  /// updates have returned, unless something leaked.
  public var retiredSnapshots: Int { published.retiredCount }
}
