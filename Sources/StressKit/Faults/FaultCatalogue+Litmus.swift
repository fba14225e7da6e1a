import RCUFaultFlavors

extension FaultCatalogue {
  /// `stress litmus`'s faults: the toy RCU's two ordering faults (each a correct variant
  /// with one barrier taken out), which no random stress catches, and a fault for each
  /// test that no ordering fault reaches: a grace period skipped, an inner unlock that ends
  /// the outer section, a callback run early, a publication before its initialization.
  public static var litmus: [CatalogueFault] {
    [
      toy(
        .mbUnfencedEntry,
        "a read-side entry without its store-load fence (the toy RCU's mb variant)"),
      toy(
        .membNoMembarrier,
        "a grace period without its sys_membarrier (the toy RCU's memb variant)"),
      litmusFault(
        .rcu(.skipGracePeriod), "synchronize() returns without waiting for readers",
        injectedBy: "FaultyRCU around the flavor", rate: "1 in 100 synchronize calls",
        detectors: [.litmusDeferredFree, .litmusStoreBuffering, .litmusNestedSections]),
      litmusFault(
        .rcu(.nestingBug), "an inner unlock also ends the outer section",
        injectedBy: "FaultyRCU around the flavor", rate: "1 in 100 inner unlocks",
        detectors: [.litmusNestedSections]),
      litmusFault(
        .rcu(.earlyCallback), "a deferred callback runs at once, before its grace period",
        injectedBy: "FaultyRCU around the flavor", rate: "1 in 100 deferrals",
        detectors: [.litmusCallback]),
      litmusFault(
        .publishBeforeInit, "the writer publishes a slot, then initializes it",
        injectedBy: "the litmus writer", rate: "1 in 100 message-passing publishes",
        detectors: [.litmusMessagePassing]),
    ]
  }

  /// A toy RCU variant with a barrier taken out: caught by whichever test its window opens.
  private static func toy(_ variant: ToyRCUName, _ summary: String) -> CatalogueFault {
    CatalogueFault(
      command: "litmus", name: variant.rawValue, summary: summary,
      injectedBy: "the toy RCU (CToyRCU), --flavor \(variant.rawValue)",
      rate: "every section (the window is nanoseconds wide)", arguments: [],
      flavor: .toy(variant),
      detectors: [
        .litmusDeferredFree, .litmusStoreBuffering, .litmusNestedSections, .litmusCallback,
      ], mayAlsoFire: [])
  }

  private static func litmusFault(
    _ fault: TortureFault, _ summary: String, injectedBy: String, rate: String,
    detectors: [ViolationKind]
  ) -> CatalogueFault {
    CatalogueFault(
      command: "litmus", name: fault.rawValue, summary: summary, injectedBy: injectedBy,
      rate: rate, arguments: ["--fault", fault.rawValue, "--fault-every", "100"], flavor: nil,
      detectors: detectors, mayAlsoFire: [])
  }
}
