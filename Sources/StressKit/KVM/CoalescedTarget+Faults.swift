import ConcurrentBus
import KVM

// Unregister orders that break the mirror's promise, written in the engine from the same
// public steps `KernelCoalescedMirror.unregister` takes (KVM_UNREGISTER_COALESCED_MMIO, a
// drain of the ring, the bus unregister), so the mirror itself carries no fault switch.

extension CoalescedTarget {
  /// Replaces the mirror's unregister of `registration` by the installed fault's order, on
  /// one coalesced unregister `turn` in `faultEvery`; false when the mirror's own should run.
  func unregisterWithFault(_ registration: CoalescedRegistration, plug: Plug, turn: Int) throws
    -> Bool
  {
    switch fault {
    case .busBeforeDrain, .skipDrain, .drainAfterReturn: break
    default: return false
    }
    guard turn % faultEvery == 0 else { return false }
    let bus = mirror.bus(registration.zone.space)
    try mirror.vm.unregisterCoalescedZone(registration.zone)
    switch fault {
    case .busBeforeDrain:
      // The device leaves the bus with writes still buffered for it: they reach nothing.
      try bus.unregister(registration.registration)
      drainRing(plug.slot)
    case .skipDrain:
      // The buffered writes stay in the ring for whoever drains next, after the range left.
      try bus.unregister(registration.registration)
    default:
      // drain-after-return: "returns" (the device is released, the range no zone), then
      // drains while the device is still on the bus.
      released(plug, when: "the fault's early return")
      drainRing(plug.slot)
      try bus.unregister(registration.registration)
    }
    return true
  }
}
