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
      stall(
        .stallSynchronize, "synchronize() never returns (the grace period stalls)",
        rate: "1 in 1000 synchronize calls", every: 1000),
      stall(
        .stallBarrier, "barrier() never returns", rate: "1 in 10 barrier calls", every: 10),
      stall(
        .stuckReader, "a reader never leaves its section: every later grace period waits",
        rate: "1 in 10000 sections per reader", every: 10_000),
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

  /// A stall fault: caught by the stall watchdog alone, one timeout after it fires.
  private static func stall(
    _ kind: RCUFaultKind, _ summary: String, rate: String, every: Int
  ) -> CatalogueFault {
    CatalogueFault(
      command: "torture", name: kind.rawValue, summary: summary,
      injectedBy: "FaultyRCU around the flavor", rate: rate,
      arguments: ["--fault", kind.rawValue, "--fault-every", String(every)], flavor: nil,
      detectors: [.stall], mayAlsoFire: [])
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
