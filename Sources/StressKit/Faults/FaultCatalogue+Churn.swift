extension FaultCatalogue {
  /// `stress churn`'s faults: bus-level bugs the engine makes from outside the bus, and
  /// the broken flavor.
  public static var churn: [CatalogueFault] {
    [
      CatalogueFault(
        command: "churn", name: ChurnFault.skipGracePeriod.rawValue,
        summary: "a removal releases its devices without waiting for its grace period",
        injectedBy: "the churn engine", rate: "1 in 100 removals per hotplug thread",
        arguments: ["--fault", "skip-grace-period", "--fault-every", "100"], flavor: nil,
        // Each says a reader still used a removal's table or device after its unregister
        // returned.
        detectors: [.staleSection, .insideAtRelease, .useAfterUnregister],
        mayAlsoFire: [.lostSignal, .spuriousSignal]),
      CatalogueFault(
        command: "churn", name: ChurnFault.dropEntry.rawValue,
        summary: "the writer's copy of the table loses an unrelated entry",
        injectedBy: "the churn engine", rate: "1 in 16 updates",
        arguments: ["--fault", "drop-entry"], flavor: nil, detectors: [.lostSignal],
        mayAlsoFire: []),
      CatalogueFault(
        command: "churn", name: ChurnFault.earlyClose.rawValue,
        summary: "an eventfd is closed before the grace period after its unregister",
        injectedBy: "the churn engine", rate: "every unregister",
        arguments: ["--fault", "early-close"], flavor: nil,
        detectors: [.failedSignal, .lostSignal, .spuriousSignal], mayAlsoFire: []),
      CatalogueFault(
        command: "churn", name: ChurnFault.withholdReclamation.rawValue,
        summary: "a deferred reclamation never runs: its retired table waits forever",
        injectedBy: "FaultyRCU (lost callback)", rate: "1 in 100 deferred works",
        arguments: ["--rings", "0", "--fault", "withhold-reclamation", "--fault-every", "100"],
        flavor: nil,
        // The backlog is not empty after the final barrier (or, in a long run, the oldest
        // reclamation is stuck); the retired snapshot is also never reclaimed.
        detectors: [.unboundedBacklog], mayAlsoFire: [.reclamation], runSeconds: 3),
      CatalogueFault(
        command: "churn", name: ChurnFault.stallSynchronize.rawValue,
        summary: "a grace period never ends: one synchronize() never returns",
        injectedBy: "FaultyRCU (stalled synchronize)", rate: "1 in 1000 synchronize calls",
        arguments: ["--fault", "stall-synchronize", "--fault-every", "1000"], flavor: nil,
        // The watchdog names the hotplug thread waiting in its synchronous unregister; the
        // run ends on time with the report, the stuck thread left behind.
        detectors: [.stall], mayAlsoFire: []),
      CatalogueFault(
        command: "churn", name: "broken-flavor",
        summary: "a flavor whose grace periods never wait: tables freed under readers",
        injectedBy: "BrokenRCU", rate: "always", arguments: [], flavor: .broken,
        detectors: [.staleSection, .crash],
        mayAlsoFire: [.insideAtRelease, .useAfterUnregister, .lostSignal, .spuriousSignal]),
    ]
  }
}
