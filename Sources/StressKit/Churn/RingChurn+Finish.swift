import ConcurrentBus
import RCU

extension RingChurn {
  /// The end of the rings' part, after the vCPUs stopped and the ring hotplug threads were
  /// asked to (`hotplugEnded`: whether they all unplugged their rings and ended) and the
  /// final barrier (`barrierReturned`: whether it returned in time): every ring must be
  /// finished, every finished ring reconciled, and no claim may be left over. All of it by
  /// `deadline`; what the time did not allow is a shortfall, never a violation.
  func finish(until deadline: UInt64, hotplugEnded: Bool, barrierReturned: Bool) {
    let pollersStopped = ledger.stopPollers(until: deadline)
    ledger.waitForAsyncRings(until: deadline)
    // With its poller stopped, the run is a ring's only consumer: it drains what is left.
    for record in ledger.unfinished
    where
      (record.consumption == .atTheEnd
      || (pollersStopped && record.consumption != .asyncSequence))
      && monotonicNanoseconds() < deadline
    {
      _ = ledger.drainAtTheEnd(record)
    }
    judgeUnfinished(
      ledger.unfinished, pollersStopped: pollersStopped, barrierReturned: barrierReturned)
    if !ledger.stopExecutor(until: deadline) {
      shortfalls.record(.time, "the rings' AsyncSequence consumer thread was still busy")
    }
    var left = 0
    while true {
      let batch = ledger.settle(flushedBy: .max, limit: 64)
      if batch.isEmpty { break }
      if monotonicNanoseconds() >= deadline {
        left += batch.count + ledger.settle(flushedBy: .max).count
        break
      }
      for record in batch { reconcile(record) }
    }
    if left > 0 {
      shortfalls.record(
        .checker, "\(left) finished ring(s) left unreconciled when the time ran out")
      return
    }
    if hotplugEnded && ledger.unfinished.isEmpty { judgeLeftoverClaims() }
  }

  /// A ring still unfinished after the end: the bus's fault only when it is certain, i.e.
  /// every registration of it was unregistered, the final barrier (after which the bus has
  /// released every device it let go of) returned, and the ring is still not sealed. A ring
  /// sealed but not yet drained by its consumer, or one whose unregister never came (its
  /// hotplug thread still busy), is the tool running short.
  private func judgeUnfinished(
    _ records: [RingRecord], pollersStopped: Bool, barrierReturned: Bool
  ) {
    for record in records {
      let sealed = record.ring?.isSealed ?? true
      if record.isRetired && barrierReturned && !sealed {
        violations.record(
          .reclamation,
          "ring slot \(record.slot) (\(record.id)) was never sealed: the bus still held its "
            + "device after its unregister and a final barrier")
      } else if sealed {
        shortfalls.record(
          .checker,
          "ring slot \(record.slot) (\(record.id)) was sealed but its consumer, "
            + "\(record.consumption), had not drained it by the end"
            + (pollersStopped ? "" : " (the poller threads were still busy)"))
      } else {
        shortfalls.record(
          .time,
          "ring slot \(record.slot) (\(record.id)) was still registered or awaiting its grace "
            + "period when the time ran out")
      }
    }
  }

  /// Claims no reconciled ring took: for a ring reconciled already, claims that came after
  /// it finished (a `use-after-unregister`); for any other registration, claims by a ring
  /// the tool never made. Only once every ring the tool made is reconciled.
  private func judgeLeftoverClaims() {
    let reconciled = reconciled.reconciledIDs
    for (id, claim) in claims.takeAll() {
      if reconciled.contains(id) {
        violations.record(
          .useAfterUnregister,
          "\(claim.valueCount) ring write(s) claimed by \(id) after its ring finished")
      } else {
        violations.record(
          .ringDelivery,
          "\(claim.valueCount) ring write(s) claimed by \(id), which is no ring the tool made")
      }
    }
  }
}
