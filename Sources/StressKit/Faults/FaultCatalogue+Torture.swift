import RCUFaultFlavors

extension FaultCatalogue {
  /// `stress torture`'s faults: flavor-level bugs injected by `FaultyRCU` around the chosen
  /// flavor, the writer's publication bug, and the broken flavor.
  public static var torture: [CatalogueFault] {
    [
      rcu(
        .skipGracePeriod, "synchronize() returns without waiting for readers",
        rate: "1 in 100 synchronize calls", detectors: [.gracePeriodOverlap],
        also: [.gracePeriodAge, .publishOrdering]),
      CatalogueFault(
        command: "torture", name: TortureFault.rcu(.shortGracePeriod).rawValue,
        summary: "synchronize() gives up after 100 us, ended or not",
        injectedBy: "FaultyRCU around the flavor", rate: "every call, after 100 us",
        arguments: ["--fault", "short-grace-period", "--fault-after-us", "100"], flavor: nil,
        detectors: [.gracePeriodOverlap], mayAlsoFire: [.gracePeriodAge, .publishOrdering]),
      rcu(
        .earlyCallback, "a deferred callback runs at once, before its grace period",
        rate: "1 in 100 deferrals", detectors: [.callbackEarly], also: [.gracePeriodAge]),
      rcu(
        .lostCallback, "a deferred callback never runs", rate: "1 in 100 deferrals",
        detectors: [.callbackLost], also: [.reclamation]),
      rcu(
        .doubleCallback, "a deferred callback runs twice", rate: "1 in 100 deferrals",
        detectors: [.callbackDuplicate], also: []),
      rcu(
        .unprotectedSection, "a read-side section is not really entered",
        rate: "1 in 100 sections per reader", detectors: [.gracePeriodOverlap, .callbackEarly],
        also: [.gracePeriodAge, .publishOrdering]),
      rcu(
        .nestingBug, "an inner unlock also ends the outer section",
        rate: "1 in 100 inner unlocks per reader",
        detectors: [.gracePeriodOverlap, .callbackEarly],
        also: [.gracePeriodAge, .publishOrdering]),
      CatalogueFault(
        command: "torture", name: TortureFault.publishBeforeInit.rawValue,
        summary: "the writer publishes an element, then sets the field readers check",
        injectedBy: "the torture writer", rate: "1 in 100 updates",
        arguments: ["--fault", "publish-before-init", "--fault-every", "100"], flavor: nil,
        detectors: [.publishOrdering], mayAlsoFire: []),
      CatalogueFault(
        command: "torture", name: "broken-flavor",
        summary: "a flavor whose grace periods never wait and callbacks run at once",
        injectedBy: "BrokenRCU", rate: "always", arguments: [], flavor: .broken,
        detectors: [.gracePeriodOverlap],
        mayAlsoFire: [.gracePeriodAge, .callbackEarly, .publishOrdering]),
    ]
  }

  private static func rcu(
    _ kind: RCUFaultKind, _ summary: String, rate: String, detectors: [ViolationKind],
    also: [ViolationKind]
  ) -> CatalogueFault {
    let fault = TortureFault.rcu(kind)
    return CatalogueFault(
      command: "torture", name: fault.rawValue, summary: summary,
      injectedBy: "FaultyRCU around the flavor", rate: rate,
      arguments: ["--fault", fault.rawValue, "--fault-every", "100"], flavor: nil,
      detectors: detectors, mayAlsoFire: also)
  }
}
