/// A deliberate bug in the VMM's side of `stress vhost`, which its checks must catch.
public enum VhostFault: String, Sendable, Hashable, Codable, CaseIterable {
  /// No fault.
  case none
  /// A kick switch that never reads the old eventfd after the switch: a kick that landed
  /// there after the back end stopped watching it is dropped (QEMU's re-notify left out).
  case dropKick = "drop-kick"
  /// A kick switch that unregisters the old notifier before the new one is registered: a
  /// kick in between finds no notifier.
  case unregisterBeforeSwitch = "unregister-before-switch"
  /// The call thread loses one call signal in `--fault-every` (the interrupt never reaches
  /// the guest).
  case loseCall = "lose-call"

  /// The default of `--fault-every` (call signals for `lose-call`; unused otherwise).
  public var defaultEvery: Int { self == .loseCall ? 50 : 1 }
}
