import ConcurrentBus
import HostSupport
import KVM
import RCU

/// One vCPU's exit handler for `stress kvm`: dispatches to the buses through a
/// ``BusExitHandler`` (which tallies unclaimed writes), each exit inside a read-side
/// section of its own that the stale-section check watches (``SectionEpochs``), and
/// sometimes lingers in it (``Linger``), so a grace period that does not wait ends with a
/// vCPU inside. Exits are rare next to churn's dispatches (microseconds apart, and
/// fewer still when KVM_IOEVENTFD absorbs the matching writes), so one in 16 is long.
///
/// The thread hooks are the ``BusExitHandler``'s: the vCPU thread is a registered reader
/// of `Flavor`, offline around every KVM_RUN, so the run works on QSBR too.
///
/// With `--coalesced`, writes to the coalesced ranges go through ``CoalescedChecks``
/// instead of the tally, and the handler follows the run loop's order in each exit window
/// (see `CheckedExitHandler+Coalesced.swift`) to tell ring entries from the exit in hand.
///
/// @unchecked Sendable: `random`, `lastHeld` and `window` are used only by the one thread running this
/// handler's vCPU (rounds run one after another, and each joins its threads), and read by
/// the main thread only after joining it.
final class CheckedExitHandler<Flavor: RCUFlavor>: GuestIOHandler, @unchecked Sendable {
  let buses: BusExitHandler<Flavor>
  let sections: SectionEpochs
  let vcpu: Int
  var random: SplitMix64
  /// The coalesced checks, with `--coalesced`.
  let coalesced: CoalescedChecks<Flavor>?
  /// The engine's own drains of the ring on this vCPU, under a fault that needs them.
  let ownDrain: OwnDrainFault?
  /// Holds this vCPU at its exits during some coalesced unregisters.
  let hold: VCPUHold?
  /// The last hold this vCPU waited for (``VCPUHold/waitWhileHeld(lastHeld:)``).
  var lastHeld: UInt64 = 0
  /// What this exit window applied so far, and counts since the last round check.
  var window = ExitWindow()

  init(
    buses: BusExitHandler<Flavor>, sections: SectionEpochs, vcpu: Int, seed: UInt64,
    coalesced: CoalescedChecks<Flavor>? = nil, ownDrain: OwnDrainFault? = nil,
    hold: VCPUHold? = nil
  ) {
    self.hold = hold
    self.buses = buses
    self.sections = sections
    self.vcpu = vcpu
    self.coalesced = coalesced
    self.ownDrain = ownDrain
    random = SplitMix64(seed: seed &+ UInt64(vcpu + 1) &* 0x9E37_79B9_7F4A_7C15)
  }

  /// Runs `body` in a read-side section of this vCPU's slot, lingering long one time in
  /// `longOneIn` (writes to coalesced ranges are mostly ring entries, many per exit: they
  /// linger long as rarely as churn's dispatches do).
  @inline(__always)
  func inSection<Result>(longOneIn: UInt64 = 16, _ body: () -> Result) -> Result {
    sections.enter(vcpu, flavor: Flavor.self)
    let result = body()
    Linger.stay(random.next(), longOneIn: longOneIn)
    sections.leave(vcpu, flavor: Flavor.self)
    return result
  }

  func portWrite(port: UInt16, size: Int, value: UInt64) {
    checkedWrite(GuestWrite(space: .pio, address: UInt64(port), size: size, value: value)) {
      buses.portWrite(port: port, size: size, value: value)
    }
  }

  func portRead(port: UInt16, size: Int) -> UInt64 {
    checkedRead(.pio, UInt64(port), size) { buses.portRead(port: port, size: size) }
  }

  func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    checkedWrite(GuestWrite(space: .mmio, address: address, size: size, value: value)) {
      buses.mmioWrite(address: address, size: size, value: value)
    }
  }

  func mmioRead(address: UInt64, size: Int) -> UInt64 {
    checkedRead(.mmio, address, size) { buses.mmioRead(address: address, size: size) }
  }

  /// A write to a coalesced range goes to its checks (a ring entry, or an exit that the
  /// checks place in the window); any other is dispatched to the buses by `dispatch`, and,
  /// with `--coalesced`, noted as the exit in hand.
  @inline(__always)
  private func checkedWrite(_ write: GuestWrite, dispatch: () -> Void) {
    if let coalesced, let slot = coalesced.layout.slot(write.space, write.address) {
      inSection(longOneIn: 256) { saw(.coalesced(coalesced.apply(write, slot: slot))) }
      return
    }
    inSection {
      dispatch()
      if coalesced != nil { saw(.exit(write, read: false)) }
    }
  }

  /// A read, dispatched to the buses by `dispatch`; with `--coalesced`, noted as the exit in
  /// hand first (every buffered write before it must have been applied).
  @inline(__always)
  private func checkedRead(
    _ space: GuestAddressSpace, _ address: UInt64, _ size: Int, dispatch: () -> UInt64
  ) -> UInt64 {
    inSection {
      if coalesced != nil {
        saw(.exit(GuestWrite(space: space, address: address, size: size, value: 0), read: true))
      }
      return dispatch()
    }
  }

  func beginDispatching() { buses.beginDispatching() }

  func willEnterGuest() {
    if coalesced != nil { closeWindow(byHalt: false) }
    buses.willEnterGuest()
  }

  func didExitGuest() {
    // Offline (QSBR) and in no section while held: no grace period waits for it.
    hold?.waitWhileHeld(lastHeld: &lastHeld)
    buses.didExitGuest()
    if let ownDrain { drainOwn(ownDrain) }
  }

  func endDispatching() {
    if coalesced != nil { closeWindow(byHalt: true) }
    buses.endDispatching()
  }
}
