import HostSupport
import RCU
import Synchronization

/// An address space (MMIO or port I/O) whose guest accesses are dispatched without locks.
///
/// vCPU threads call ``write(address:size:value:)`` and ``read(address:size:)`` inside an
/// RCU read-side section on an immutable ``DeviceTable`` snapshot. Registering and
/// unregistering copy the table, change the copy, publish it, and reclaim the old one after
/// a grace period; writers are serialized by a lock readers never touch.
///
/// `Flavor` picks the grace-period mechanism. Use `IOBus()` for liburcu's memb flavor; the
/// others exist to test the bus and its checkers.
public final class IOBus<Flavor: RCUFlavor>: Sendable {
  @usableFromInline let published: RCUPublished<Flavor, DeviceTable>
  /// The per-thread counters behind ``statistics``; devices of this package (ioeventfd)
  /// add their failed signals here.
  @usableFromInline package let counters = ShardedCounters<BusCounter>()
  let writer = Mutex(BusState())  // Internal, not private: BenchmarkSupport.swift reads it.
  private let publishCount = Atomic<UInt64>(0)
  private let gracePeriodWaitCount = Atomic<UInt64>(0)

  /// Creates an empty bus on the given RCU flavor.
  public init(flavor: Flavor.Type) {
    published = RCUPublished(DeviceTable(matched: [], ranges: []))
  }

  // MARK: - Dispatch (vCPU threads)

  /// Offers a guest write to the bus.
  ///
  /// Value-matched entries at `address` are tried first, in registration order, then the
  /// range that contains the whole access. Any input is safe: a size other than 1, 2, 4 or
  /// 8, or an access that would wrap past 2^64, is simply unclaimed. Only the low `size`
  /// bytes of `value` are used.
  ///
  /// The whole path (validation, read-side section, binary search, the device call) takes
  /// no lock, allocates nothing, touches no reference count and writes no shared cache line;
  /// `Scripts/check-hot-path.sh` checks the optimized machine code on every CI run.
  @inlinable
  public func write(address: UInt64, size: Int, value: UInt64) -> DispatchResult {
    guard let access = GuestAccess(address: address, size: size) else {
      counters.add(.unclaimedWrites)
      return .unclaimed
    }
    let value = access.truncate(value)
    let result = published.read { table in table.write(access, value: value) }
    if result == .unclaimed { counters.add(.unclaimedWrites) }
    return result
  }

  /// Offers a guest read to the range that contains it; `nil` when nothing claims it. The
  /// result holds only the low `size` bytes of what the device returned.
  @inlinable
  public func read(address: UInt64, size: Int) -> UInt64? {
    guard let access = GuestAccess(address: address, size: size) else {
      counters.add(.unclaimedReads)
      return nil
    }
    guard let value = published.read({ table in table.read(access) }) else {
      counters.add(.unclaimedReads)
      return nil
    }
    return access.truncate(value)
  }

  // MARK: - Registration (any thread outside a read-side section)

  /// Registers `device` for every access that lies inside `[base, base + length)`.
  ///
  /// Never waits for a grace period: the replaced snapshot is reclaimed in the background.
  public func register(
    _ device: any IODevice, base: UInt64, length: UInt64
  ) throws(IOBusError) -> Registration {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.register(device, base: base, length: length)
    }
  }

  /// Registers `device` for writes at exactly `address` that match `size` and `match`, with
  /// KVM's ioeventfd rules (see ``IOBusTransaction/register(_:address:size:match:)``).
  public func register(
    _ device: any IODevice, address: UInt64, size: Int, match: ValueMatch
  ) throws(IOBusError) -> Registration {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.register(device, address: address, size: size, match: match)
    }
  }

  /// Removes a registration and waits for a grace period. When it returns, no thread is
  /// inside the device or can enter it, and the bus holds no reference to it.
  public func unregister(_ registration: Registration) throws(IOBusError) {
    try update { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.unregister(registration)
    }
  }

  /// Removes a registration without blocking; `whenReleased` runs (on liburcu's callback
  /// thread) once a grace period has passed and the bus has let go of the device.
  ///
  /// Errors are thrown right away and `whenReleased` is then never called.
  public func unregister(
    _ registration: Registration, whenReleased: @escaping @Sendable () -> Void
  ) throws(IOBusError) {
    try update(reclaim: .deferred(whenReleased)) {
      (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.unregister(registration)
    }
  }

  /// Removes a registration and suspends, without blocking a thread, until a grace period
  /// has passed and the bus has let go of the device.
  public func unregister(_ registration: Registration) async throws(IOBusError) {
    let failure = await withCheckedContinuation {
      (continuation: CheckedContinuation<IOBusError?, Never>) in
      do throws(IOBusError) {
        try unregister(registration) { continuation.resume(returning: nil) }
      } catch {
        continuation.resume(returning: error)
      }
    }
    if let failure { throw failure }
  }

  // MARK: - Batches

  /// How a batch that removes devices waits for its grace period.
  public enum Reclamation: Sendable {
    /// Block the caller until the grace period has passed and removed devices are released.
    case synchronous
    /// Return at once; release removed devices after the grace period, then call the
    /// closure from liburcu's callback thread.
    case deferred(@Sendable () -> Void)
  }

  /// Applies a batch: every operation in `body` is validated together, then the bus
  /// publishes one new snapshot and waits for at most one grace period.
  ///
  /// If `body` throws, nothing changes. `body` runs under the writer lock: it must not call
  /// back into this bus.
  ///
  /// - Throws: the first error `body` throws, or ``IOBusError/insideReadSection``.
  @discardableResult
  public func update<Result>(
    reclaim: Reclamation = .synchronous,
    _ body: (inout IOBusTransaction) throws(IOBusError) -> Result
  ) throws(IOBusError) -> Result {
    guard !Flavor.isInReadSection else { throw .insideReadSection }
    let commit = try writer.withLock { (state: inout BusState) throws(IOBusError) in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      var tx = IOBusTransaction(state: BusState(), counters: counters)
      swap(&tx.state, &state)
      let result: Result
      do throws(IOBusError) {
        result = try body(&tx)
      } catch {
        // Identifiers the batch handed out stay used (rollBack keeps nextID): a caller may
        // still hold one, and it must never name a later registration.
        tx.state.rollBack(tx.log)
        swap(&tx.state, &state)
        throw error
      }
      let retired = published.publish(tx.state.makeTable())
      publishCount.add(1, ordering: .relaxed)
      swap(&tx.state, &state)
      return Commit(result: result, retired: retired, removed: tx.removed)
    }
    let result = commit.result
    let removed = commit.removed
    switch reclaim {
    case .synchronous where !removed.isEmpty:
      gracePeriodWaitCount.add(1, ordering: .relaxed)
      commit.retired.reclaimAfterSynchronize()
      withExtendedLifetime(removed) {}
    case .synchronous:
      // Nothing to release: readers never need to be waited for just to free a snapshot.
      commit.retired.reclaimDeferred()
    case .deferred(let whenReleased):
      let release = ReleaseAfterGracePeriod(removed)
      commit.retired.reclaimDeferred {
        release.release()
        whenReleased()
      }
    }
    return result
  }

  /// What a batch leaves to do once the writer lock is released.
  private struct Commit<Result>: ~Copyable {
    let result: Result
    let retired: RetiredSnapshot<Flavor, DeviceTable>
    let removed: [DeviceHandle]
  }

  // MARK: - Introspection

  /// The registrations currently on the bus, in table order (value-matched, then ranges).
  public var registrations: [Registration] {
    writer.withLock { state in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      return (state.matched + state.ranges).map { state.handles[$0.id]!.registration }
    }
  }

  /// Unclaimed accesses and failed signals so far, summed over every vCPU thread.
  public var statistics: IOBusStatistics {
    IOBusStatistics(
      unclaimedWrites: counters[.unclaimedWrites],
      unclaimedReads: counters[.unclaimedReads],
      failedSignals: counters[.failedSignals])
  }

  /// How many snapshots writers have published: one per successful register, unregister
  /// or batch.
  public var publishes: UInt64 { publishCount.load(ordering: .relaxed) }

  /// How many times a writer blocked for a grace period: once per synchronous unregister
  /// or batch that removed something, never for registrations.
  public var gracePeriodWaits: UInt64 { gracePeriodWaitCount.load(ordering: .relaxed) }

  /// The device registered as `registration`, while it is on the bus: for an ioeventfd
  /// registration an ``IOEventFD``, whose ``IOEventFD/hits`` count its signals.
  public func device(of registration: Registration) -> (any IODevice)? {
    writer.withLock { state in
      SanitizerHandoff.acquire(self)
      defer { SanitizerHandoff.release(self) }
      return state.handles[registration.id].flatMap {
        $0.registration == registration ? $0.device : nil
      }
    }
  }

  /// Snapshots replaced but not yet reclaimed. Zero after ``RCUFlavor/barrier()`` once all
  /// updates have returned, unless something leaked.
  public var retiredSnapshots: Int { published.retiredCount }
}

extension IOBus where Flavor == MembRCU {
  /// Creates an empty bus on liburcu's memb flavor.
  public convenience init() {
    self.init(flavor: MembRCU.self)
  }
}

/// Holds removed devices until a deferred grace period has passed, then lets go of them
/// before the caller's completion runs.
private final class ReleaseAfterGracePeriod: @unchecked Sendable {
  // @unchecked: `handles` is written once here and once more by the single deferred
  // callback that owns this object after the grace period.
  private var handles: [DeviceHandle]

  init(_ handles: [DeviceHandle]) {
    self.handles = handles
  }

  func release() {
    handles = []
  }
}
