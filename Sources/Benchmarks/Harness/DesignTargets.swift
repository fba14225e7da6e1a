import ConcurrentBus

/// One bus per design, all holding the same `entries` ranges: what the read side measures at
/// one table size.
struct DesignTargets {
  let entries: Int
  let floor: BusTarget<UnsynchronizedFlavor>
  let memb: BusTarget<MembRCU>
  let qsbr: BusTarget<QSBRRCU>
  let rwlock: BusTarget<RWLockFlavor>
  let mutex: BusTarget<MutexFlavor>
  let swapped: SwappedTarget

  /// Every design's bus at `entries` ranges.
  init(entries: Int) throws {
    self.entries = entries
    floor = try BusTarget(entries: entries)
    memb = try BusTarget(entries: entries)
    qsbr = try BusTarget(entries: entries)
    rwlock = try BusTarget(entries: entries)
    mutex = try BusTarget(entries: entries)
    swapped = try SwappedTarget(entries: entries)
  }

  /// One timed run of `design`. A switch over concrete types, so that each design's run is
  /// specialized with its dispatch inlined (an existential would measure a dynamic call).
  func measure(_ design: Design, threads: Int, churn: Churn, seconds: Double) throws -> ReadRun {
    func run<Target: ReadTarget>(_ target: Target) throws -> ReadRun {
      try measureReads(target, threads: threads, entries: entries, churn: churn, seconds: seconds)
    }
    return switch design {
    case .floor: try run(floor)
    case .memb: try run(memb)
    case .qsbr: try run(qsbr)
    case .rwlock: try run(rwlock)
    case .mutex: try run(mutex)
    case .swapped: try run(swapped)
    }
  }

  /// Waits until the RCU buses' deferred reclamations have run.
  func barrier() {
    MembRCU.barrier()
    QSBRRCU.barrier()
  }
}
