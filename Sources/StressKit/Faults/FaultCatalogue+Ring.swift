extension FaultCatalogue {
  /// `stress churn`'s ring faults: values dropped, duplicated or reordered between a ring
  /// and its checker, and ring unregisters taken as returned before they publish; all made
  /// by the churn engine, outside the ring code (`RingFaultInjector`, `RingTarget`).
  public static var ring: [CatalogueFault] {
    let everyValues = ["--fault-every", "1000"]
    return [
      CatalogueFault(
        command: "churn", name: ChurnFault.ringDrop.rawValue,
        summary: "a value the ring delivered is lost before the consumer sees it",
        injectedBy: "the churn engine, between the ring and its checker",
        rate: "1 in 1000 ring values", arguments: ["--fault", "ring-drop"] + everyValues,
        // A gap in the sequence; or, when the value was its producer's last in that ring,
        // no later entry shows the gap, and only the comparison with the claims does.
        flavor: nil, detectors: [.ringSequence, .ringDelivery], mayAlsoFire: []),
      CatalogueFault(
        command: "churn", name: ChurnFault.ringDuplicate.rawValue,
        summary: "a value the ring delivered reaches the consumer twice",
        injectedBy: "the churn engine, between the ring and its checker",
        rate: "1 in 1000 ring values", arguments: ["--fault", "ring-duplicate"] + everyValues,
        flavor: nil, detectors: [.ringSequence], mayAlsoFire: [.ringDelivery]),
      CatalogueFault(
        command: "churn", name: ChurnFault.ringReorder.rawValue,
        summary: "a value reaches the consumer after its producer's next one",
        injectedBy: "the churn engine, between the ring and its checker",
        rate: "1 in 1000 ring values", arguments: ["--fault", "ring-reorder"] + everyValues,
        flavor: nil, detectors: [.ringSequence], mayAlsoFire: [.ringDelivery]),
      CatalogueFault(
        command: "churn", name: ChurnFault.ringSilentDrop.rawValue,
        summary:
          "a value is lost and its producer's later entries renumbered, so the sequence "
          + "numbers look intact (a producer that claimed a write and never recorded it)",
        injectedBy: "the churn engine, between the ring and its checker",
        rate: "1 in 1000 ring values", arguments: ["--fault", "ring-silent-drop"] + everyValues,
        flavor: nil, detectors: [.ringDelivery], mayAlsoFire: []),
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
}
