extension FaultCatalogue {
  /// `stress churn`'s ring faults: values dropped, duplicated or reordered between a ring
  /// and its checker, and ring unregisters taken as returned before they publish; all made
  /// by the churn engine, outside the ring code (`RingFaultInjector`, `RingTarget`).
  public static var ring: [CatalogueFault] {
    [
      // A gap in the sequence; or, when the value was its producer's last in that ring, no
      // later entry shows the gap, and only the comparison with the claims does.
      ringValueFault(
        .ringDrop, "a value the ring delivered is lost before the consumer sees it",
        detectors: [.ringSequence, .ringDelivery], also: []),
      ringValueFault(
        .ringDuplicate, "a value the ring delivered reaches the consumer twice",
        detectors: [.ringSequence], also: [.ringDelivery]),
      ringValueFault(
        .ringReorder, "a value reaches the consumer after its producer's next one",
        detectors: [.ringSequence], also: [.ringDelivery]),
      ringValueFault(
        .ringSilentDrop,
        "a value is lost and its producer's later entries renumbered, so the sequence "
          + "numbers look intact (a producer that claimed a write and never recorded it)",
        detectors: [.ringDelivery], also: []),
      CatalogueFault(
        command: "churn", name: ChurnFault.ringEarlyReturn.rawValue,
        summary:
          "a ring unregister or move counts as returned before it publishes, so writes "
          + "issued after it returned may still be claimed",
        injectedBy: "the churn engine (RingTarget)", rate: "every ring unregister and move",
        arguments: ["--fault", "ring-early-return"], flavor: nil,
        detectors: [.useAfterUnregister], mayAlsoFire: []),
    ]
  }

  /// A fault the churn engine makes between a ring and its checker, on 1 ring value in 1000.
  private static func ringValueFault(
    _ fault: ChurnFault, _ summary: String, detectors: [ViolationKind], also: [ViolationKind]
  ) -> CatalogueFault {
    CatalogueFault(
      command: "churn", name: fault.rawValue, summary: summary,
      injectedBy: "the churn engine, between the ring and its checker",
      rate: "1 in 1000 ring values",
      arguments: ["--fault", fault.rawValue, "--fault-every", "1000"], flavor: nil,
      detectors: detectors, mayAlsoFire: also)
  }
}
