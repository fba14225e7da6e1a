import RCU

extension IOBus {
  /// How a batch that removes devices waits for its grace period.
  public enum Reclamation: Sendable {
    /// Block the caller until the grace period has passed and removed devices are released.
    case synchronous
    /// Return at once; release removed (and moved) devices after the grace period, then
    /// call the closure on a thread of the flavor's deferred work. The closure runs even
    /// when the batch removed nothing, and never when the batch throws.
    case deferred(@Sendable () -> Void)
  }

  /// Applies a batch: the table `body` leaves is checked as a whole (overlaps, collisions,
  /// the address space, ``maximumEntries``), then the bus publishes it as one new snapshot
  /// and waits for at most one grace period. See ``IOBusTransaction`` for what is checked
  /// when.
  ///
  /// If `body` throws, or the table it leaves breaks a rule, nothing changes. `body` runs under the writer lock: calling into any
  /// bus from it (this one included) throws ``IOBusError/insideUpdate``.
  ///
  /// From a device callback (inside a read-side section), on this bus or another, a batch is
  /// allowed unless it must wait: a `.synchronous` batch that removes a device throws
  /// ``IOBusError/insideReadSection`` and changes nothing; registering, moving and
  /// `.deferred` batches go through. Why that cannot deadlock:
  /// - a thread inside a read-side section blocks here only on the writer lock;
  /// - the lock's holder never waits for a grace period while holding it: it publishes
  ///   (an exchange), releases the lock, and only then waits (`.synchronous`) or hands the
  ///   old snapshot to `Flavor.deferUntilGracePeriod`, which never blocks;
  /// - the holder never waits for another writer lock, nor starts a grace-period wait from
  ///   `body`: both are ``IOBusError/insideUpdate``.
  /// So the holder always finishes, and every grace period the holder's callers wait for
  /// ends once the reader behind the lock has had its turn.
  ///
  /// - Throws: the first error `body` throws, the first rule the resulting table breaks,
  ///   ``IOBusError/insideReadSection`` or ``IOBusError/insideUpdate``.
  @discardableResult
  public func update<Result>(
    reclaim: Reclamation = .synchronous,
    _ body: (inout IOBusTransaction) throws(IOBusError) -> Result
  ) throws(IOBusError) -> Result {
    try apply(reclaim, body, busError: { $0 })
  }

  /// Applies a batch whose body throws untyped errors: what `try bus.update { tx in ... }`
  /// picks, nested closures included. The same rules as the typed form; the body's own
  /// errors come back as thrown, bus errors as ``IOBusError``.
  @_disfavoredOverload
  @discardableResult
  public func update<Result>(
    reclaim: Reclamation = .synchronous,
    _ body: (inout IOBusTransaction) throws -> Result
  ) throws -> Result {
    try apply(reclaim, body, busError: { $0 })
  }

  /// The batch machinery behind both `update`s, generic over the body's error type.
  private func apply<Result, Failure: Error>(
    _ reclaim: Reclamation,
    _ body: (inout IOBusTransaction) throws(Failure) -> Result,
    busError: (IOBusError) -> Failure
  ) throws(Failure) -> Result {
    // The caller's own thread state, read before locking: neither changes under the lock.
    guard !UpdateScope.isActive else { throw busError(.insideUpdate) }
    let mayWait = !Flavor.isInReadSection
    // The retired snapshot leaves the lock through this variable rather than inside the
    // closure's result: a noncopyable generic result returned through `withLock` was
    // miscompiled in release builds (Swift 6.3: garbage copied out of it).
    var retired: RetiredSnapshot<Flavor, DeviceTable>?
    let outcome = try UpdateScope.run { () throws(Failure) in
      try writer.withLock { (state: inout BusState) throws(Failure) in
        SanitizerHandoff.acquire(self)
        defer { SanitizerHandoff.release(self) }
        return try applyLocked(
          &state, reclaim: reclaim, mayWait: mayWait, body, busError: busError, retired: &retired)
      }
    }
    finish(retired.take()!, outcome.held, removedAny: outcome.removedAny, reclaim: reclaim)
    return outcome.result
  }

  /// Runs `body` on the writer state and publishes the result; on any error rolls the state
  /// back and publishes nothing. Runs under the writer lock.
  private func applyLocked<Result, Failure: Error>(
    _ state: inout BusState, reclaim: Reclamation, mayWait: Bool,
    _ body: (inout IOBusTransaction) throws(Failure) -> Result,
    busError: (IOBusError) -> Failure,
    retired: inout RetiredSnapshot<Flavor, DeviceTable>?
  ) throws(Failure) -> sending Outcome<Result> {
    var tx = IOBusTransaction(state: state.placeholder, attachments: attachments)
    swap(&tx.state, &state)
    defer { swap(&tx.state, &state) }
    // The published table is valid: only what this batch adds can make it conflict.
    tx.state.mayConflict = false
    let result: Result
    do throws(Failure) {
      result = try body(&tx)
    } catch {
      // Identifiers the batch handed out stay used (rollBack keeps nextID): a caller may
      // still hold one, and it must never name a later registration.
      tx.state.rollBack(tx.log)
      throw error
    }
    do throws(IOBusError) {
      try tx.checkEndState()
      if case .synchronous = reclaim, !tx.removed.isEmpty, !mayWait {
        throw .insideReadSection
      }
    } catch {
      tx.state.rollBack(tx.log)
      throw busError(error)
    }
    let table = tx.state.makeTable()
    let retiredBytes = tx.state.publishedTableBytes
    tx.state.publishedTableBytes = table.allocatedBytes
    retired = published.publish(table)
    publishCount.add(1, ordering: .relaxed)
    let held = tx.removed + tx.replaced
    let ticket = reclamations.retire(
      tables: 1, devices: tx.removed.count,
      bytes: retiredBytes + held.reduce(0) { $0 + $1.allocatedBytes })
    // The handles leave in a box the reclaim empties: whoever still holds the outcome then
    // holds no device, so `whenReleased` really runs after the bus let go of it.
    return Outcome(
      result: result, held: HeldHandles(held, ticket: ticket, in: reclamations),
      removedAny: !tx.removed.isEmpty)
  }

  /// Reclaims what a published batch left behind, after the writer lock is released.
  /// `held.release()` closes the batch's ticket in ``reclamationBacklog`` once the table
  /// and the handles are freed (before `whenReleased` runs, so whoever it tells sees the
  /// backlog without them).
  private func finish(
    _ retired: consuming RetiredSnapshot<Flavor, DeviceTable>, _ held: HeldHandles,
    removedAny: Bool, reclaim: Reclamation
  ) {
    switch reclaim {
    case .synchronous where removedAny:
      gracePeriodWaitCount.add(1, ordering: .relaxed)
      retired.reclaimAfterSynchronize()
      held.release()
    case .synchronous:
      // Registrations and moves: readers never need to be waited for just to free a
      // snapshot; a move's replaced handles stay with older snapshots until a grace period.
      retired.reclaimDeferred { held.release() }
    case .deferred(let whenReleased):
      retired.reclaimDeferred {
        held.release()
        whenReleased()
      }
    }
  }
}

/// What a published batch hands back from under the writer lock (the retired snapshot
/// travels separately).
private struct Outcome<Result> {
  let result: Result
  /// The handles the batch removed or replaced, let go of after a grace period, with the
  /// batch's ticket in the bus's reclamation ledger.
  let held: HeldHandles
  /// Whether the batch removed a registration (a synchronous batch then waits).
  let removedAny: Bool
}

/// The only strong references left to removed and replaced devices once a batch has
/// published: emptied after the grace period, before the caller's completion runs, however
/// long anyone else keeps this box; emptying it closes the batch's reclamation ticket.
private final class HeldHandles: @unchecked Sendable {
  // @unchecked: `handles` is written here and once more by `release()`, which runs once,
  // after the grace period, on the one thread that reclaims the batch.
  private var handles: [DeviceHandle]
  private let ticket: UInt64
  private let ledger: ReclamationLedger

  init(_ handles: [DeviceHandle], ticket: UInt64, in ledger: ReclamationLedger) {
    self.handles = handles
    self.ticket = ticket
    self.ledger = ledger
  }

  /// Lets go of the handles and closes the ticket: the table is freed already.
  func release() {
    handles = []
    ledger.finish(ticket)
  }
}
