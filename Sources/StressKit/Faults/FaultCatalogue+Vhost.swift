import Glibc

extension FaultCatalogue {
  /// `stress vhost`'s faults: a kick switch that drops the kick left on the old eventfd, one
  /// that unregisters the old notifier before registering the new, and a call signal lost
  /// on its way to the guest. Empty where `/dev/kvm` cannot be opened or
  /// `qemu-storage-daemon` is not installed: `stress vhost` could not judge them there.
  public static var vhost: [CatalogueFault] {
    guard access("/dev/kvm", R_OK | W_OK) == 0, StorageDaemon.executable != nil else { return [] }
    return [
      vhostFault(
        .dropKick, "a kick switch never reads the old eventfd: a kick landing there is lost",
        rate: "every kick switch (200 per second)", detectors: [.lostKick], also: []),
      vhostFault(
        .unregisterBeforeSwitch,
        "a kick switch unregisters the old notifier before the new one is registered",
        rate: "every kick switch (200 per second)", detectors: [.kickUnclaimed],
        also: [.lostKick]),
      vhostFault(
        .loseCall, "a call signal never reaches the guest as an interrupt", every: 50,
        rate: "1 in 50 call signals", detectors: [.lostCall], also: []),
    ]
  }

  private static func vhostFault(
    _ fault: VhostFault, _ summary: String, every: Int? = nil, rate: String,
    detectors: [ViolationKind], also: [ViolationKind]
  ) -> CatalogueFault {
    CatalogueFault(
      command: "vhost", name: fault.rawValue, summary: summary,
      injectedBy: "the VMM's kick switch or call thread (StressKit)", rate: rate,
      arguments: ["--fault", fault.rawValue, "--kick-bound-ms", "300"]
        + (every.map { ["--fault-every", String($0)] } ?? []),
      flavor: nil, detectors: detectors, mayAlsoFire: also)
  }
}
