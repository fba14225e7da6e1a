import Foundation

/// The rings' part of a churn report.
public struct RingChurnSummary: Encodable, Sendable {
  /// Ring slots and records per producer lane.
  let slots: Int
  let capacity: Int
  /// Rings registered, registrations moved, rings unregistered.
  let registrations: UInt64
  let moves: UInt64
  let removals: UInt64
  /// Ring removals that waited for their grace period, and deferred ones released.
  let gracePeriodsWaited: UInt64
  let deferredReleases: UInt64
  /// Rings found finished and reconciled; of all rings, those consumed through their
  /// `AsyncSequence` (the rest through an `EventPoller`).
  let ringsReconciled: UInt64
  let asyncSequenceRings: UInt64
  /// Ring writes the vCPUs issued, those a ring claimed (reconciled), the values the
  /// consumers delivered, and those lost to a full lane (must be 0).
  let valuesWritten: UInt64
  let valuesClaimed: UInt64
  let valuesDelivered: UInt64
  let valuesLost: UInt64
  /// Claimed (and reconciled) ring values per vCPU.
  let valuesClaimedPerVCPU: [UInt64]
  /// Entries the injected ring fault altered.
  let entriesAlteredByFault: UInt64
  /// Ring registrations the hotplug threads left out because as many rings were open as
  /// the run may hold, and ring writes the vCPUs skipped because as many values awaited
  /// reconciliation as it may hold (back-pressure).
  let registrationsHeldBack: UInt64
  let writesSkipped: UInt64

  var lines: [String] {
    [
      "  rings: \(slots) slots (capacity \(capacity) per lane); \(registrations) registered, "
        + "\(moves) moved, \(removals) unregistered (\(gracePeriodsWaited) waited, "
        + "\(deferredReleases) deferred); \(ringsReconciled) reconciled, "
        + "\(asyncSequenceRings) consumed as AsyncSequence",
      "  ring values: \(valuesWritten) written, \(valuesClaimed) claimed by a ring, "
        + "\(valuesDelivered) delivered, \(valuesLost) lost; per vCPU "
        + valuesClaimedPerVCPU.map(String.init).joined(separator: " / ")
        + (entriesAlteredByFault > 0 ? "; \(entriesAlteredByFault) altered by the fault" : ""),
      "  ring back-pressure: \(registrationsHeldBack) registration(s) held back, "
        + "\(writesSkipped) write(s) skipped",
    ]
  }

  /// The least ring work after which "no violation" says something about rings: each ring
  /// check must have had material, from every vCPU. Chosen from measurements on a loaded
  /// 2-core machine (see README, "churn").
  var minimumWork: [WorkMeasure] {
    [
      WorkMeasure("ring registrations", done: registrations, required: 20),
      WorkMeasure("ring moves", done: moves, required: 10),
      WorkMeasure("rings reconciled", done: ringsReconciled, required: 10),
      WorkMeasure(
        "ring values delivered for the slowest vCPU", done: valuesClaimedPerVCPU.min() ?? 0,
        required: 1000),
    ]
  }
}

extension RingChurn {
  /// The summary, after ``finish()``.
  func summary(vcpus: Int, valuesWritten: UInt64) -> RingChurnSummary {
    let totals = reconciled
    return RingChurnSummary(
      slots: slots, capacity: capacity,
      registrations: hotplug.counters[.registrations], moves: hotplug.moves,
      removals: hotplug.counters[.removals],
      gracePeriodsWaited: hotplug.counters[.gracePeriodsWaited],
      deferredReleases: hotplug.counters[.deferredReleases],
      ringsReconciled: totals.ringsReconciled, asyncSequenceRings: ledger.asyncSequenceRings,
      valuesWritten: valuesWritten,
      valuesClaimed: totals.claimedByVCPU.values.reduce(0, +),
      valuesDelivered: totals.valuesDelivered, valuesLost: totals.valuesLost,
      valuesClaimedPerVCPU: (0..<vcpus).map { totals.claimedByVCPU[$0] ?? 0 },
      entriesAlteredByFault: ledger.faults.altered, registrationsHeldBack: hotplug.heldBack,
      writesSkipped: writesSkipped)
  }
}
