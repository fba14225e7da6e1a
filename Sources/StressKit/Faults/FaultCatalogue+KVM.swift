import Glibc

extension FaultCatalogue {
  /// `stress kvm --coalesced`'s faults: coalesced writes dropped, doubled or reordered by a
  /// drain of the engine's own, unregister orders written in the engine, the run loop's
  /// order broken by the engine's own drain, a skipped grace period, and the broken flavor.
  /// Empty where `/dev/kvm` cannot be opened for reading and writing: `stress kvm` could
  /// not run them there.
  public static var kvm: [CatalogueFault] {
    guard access("/dev/kvm", R_OK | W_OK) == 0 else { return [] }
    let sequence: [ViolationKind] = [.sequenceSkipped, .sequenceRepeated, .sequenceCount]
    return [
      kvmFault(
        .skipGracePeriod, "a removal releases its devices without waiting for its grace period",
        injectedBy: "the hotplug engine", rate: "1 in 100 removals per hotplug thread",
        every: 100, detectors: [.staleSection],
        also: [.useAfterUnregister, .insideAtRelease, .lostSignal, .spuriousSignal]),
      kvmFault(
        .dropCoalesced, "a buffered write is never applied", injectedBy: "the vCPUs' own drain",
        rate: "1 in 100 ring entries per vCPU", detectors: [.sequenceSkipped],
        also: [.sequenceCount]),
      kvmFault(
        .duplicateCoalesced, "a buffered write is applied twice",
        injectedBy: "the vCPUs' own drain", rate: "1 in 100 ring entries per vCPU",
        detectors: [.sequenceRepeated], also: [.sequenceCount]),
      kvmFault(
        .reorderCoalesced, "a buffered write is applied after its writer's next one",
        injectedBy: "the vCPUs' own drain", rate: "1 in 100 ring entries per vCPU",
        detectors: [.sequenceRepeated], also: [.sequenceSkipped]),
      kvmFault(
        .busBeforeDrain, "a coalesced unregister leaves the bus before it drains the ring",
        injectedBy: "the coalesced hotplug's unregister order", rate: "every coalesced unregister",
        detectors: [.coalescedUnclaimed], also: [.coalescedLate]),
      kvmFault(
        .skipDrain, "a coalesced unregister never drains the ring",
        injectedBy: "the coalesced hotplug's unregister order", rate: "every coalesced unregister",
        detectors: [.coalescedUnclaimed, .coalescedLate], also: []),
      kvmFault(
        .drainAfterReturn, "a coalesced unregister returns before it drains the ring",
        injectedBy: "the coalesced hotplug's unregister order", rate: "every coalesced unregister",
        detectors: [.useAfterUnregister, .coalescedLate], also: []),
      kvmFault(
        .exitBeforeDrain, "the exit in hand is applied before the writes buffered before it",
        injectedBy: "the vCPUs' own drain", rate: "every exit with buffered writes",
        detectors: [.drainOrder],
        also: [.coalescedUnclaimed, .coalescedLate] + sequence.filter { $0 != .sequenceCount }),
      CatalogueFault(
        command: "kvm", name: "broken-flavor",
        summary: "a flavor whose grace periods never wait: tables freed under the vCPUs",
        injectedBy: "BrokenRCU", rate: "always", arguments: ["--coalesced"], flavor: .broken,
        detectors: [.staleSection, .crash],
        mayAlsoFire: [.useAfterUnregister, .lostSignal, .spuriousSignal] + sequence),
    ]
  }

  private static func kvmFault(
    _ fault: GuestFault, _ summary: String, injectedBy: String, rate: String, every: Int? = nil,
    detectors: [ViolationKind], also: [ViolationKind]
  ) -> CatalogueFault {
    CatalogueFault(
      command: "kvm", name: fault.rawValue, summary: summary, injectedBy: injectedBy, rate: rate,
      arguments: ["--coalesced", "--fault", fault.rawValue]
        + (every.map { ["--fault-every", String($0)] } ?? []),
      flavor: nil, detectors: detectors, mayAlsoFire: also)
  }
}
