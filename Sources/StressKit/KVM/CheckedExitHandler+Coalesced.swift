import ConcurrentBus
import KVM
import KVMGuests
import RCU

/// One access an exit window applied.
enum WindowAccess {
  /// A write to a coalesced range: a ring entry, or the exit in hand.
  case coalesced(CoalescedAccess)
  /// A read, or a write outside the coalesced ranges: never a ring entry (zones cover the
  /// coalesced ranges only), so the exit in hand.
  case exit(GuestWrite, read: Bool)
}

/// What one vCPU applied since its last exit, and what the round check compares.
///
/// Why the order tells ring entries from exits: `VCPU.run` calls `didExitGuest()` after
/// every KVM_RUN, then applies the ring's entries, then dispatches the exit in hand (one
/// access: the guest makes no string I/O), then calls `willEnterGuest()`; at HLT it applies
/// the ring and calls `endDispatching()`. So in a window every access but the last is a
/// ring entry, and the last one is too when the window ends at HLT. An access after a read
/// or after a write outside the ranges breaks that order (`drain-order`), and the entries
/// counted this way must be exactly the run loop's `drainedCoalescedWrites`.
struct ExitWindow {
  /// The window's last access, judged when the next arrives or the window closes.
  var previous: WindowAccess?
  /// Accesses the order showed to be ring entries, since the last round check.
  var ringEntries = 0
  /// Entries exit-before-drain applied after the exit, since the last round check.
  var appliedLate = 0
  /// Entries exit-before-drain took before the exit, to apply after it.
  var held: [GuestWrite] = []
  /// Ring entries the ring faults saw, for their rate.
  var faultEntries = 0
  /// The entry reorder-coalesced holds back until its writer's next one.
  var reordered: GuestWrite?
  /// Windows with buffered writes, for exit-before-drain's rate.
  var pendingWindows = 0
}

/// A fault the vCPUs make with a drain of the ring of their own, at the start of each exit
/// window, before the run loop's drain (which then finds the ring empty, or nearly).
struct OwnDrainFault: Sendable {
  let fault: GuestFault
  let every: Int
  let ring: CoalescedRing
}

extension CheckedExitHandler {
  /// Judges the window's previous access as a ring entry, since another follows it.
  func saw(_ access: WindowAccess) {
    if let previous = window.previous { judgeAsRingEntry(previous) }
    window.previous = access
  }

  /// Ends the window: the last access was the exit in hand, or, at HLT, a ring entry.
  func closeWindow(byHalt: Bool) {
    applyHeld()
    if byHalt, let previous = window.previous { judgeAsRingEntry(previous) }
    window.previous = nil
  }

  private func judgeAsRingEntry(_ access: WindowAccess) {
    switch access {
    case .coalesced(let applied):
      window.ringEntries += 1
      coalesced!.judgeRingEntry(applied, applier: "vCPU \(vcpu)")
    case .exit(let exit, let read):
      coalesced!.violations.record(
        .drainOrder,
        "vCPU \(vcpu) applied an access after the exit in hand (\(read ? "read" : "write") \(exit))"
      )
    }
  }

  /// After a round, with this vCPU's thread joined: the ring entries its order showed must
  /// be exactly those its run loop drained (plus those a fault applied after the exit).
  func checkRingCount(drainedByRunLoop: Int) {
    let expected = drainedByRunLoop + window.appliedLate
    if window.ringEntries != expected {
      coalesced!.violations.record(
        .drainOrder,
        "vCPU \(vcpu): the run loop applied \(expected) buffered write(s) in a round, the "
          + "order of its accesses shows \(window.ringEntries)")
    }
    window.ringEntries = 0
    window.appliedLate = 0
  }

  // MARK: Faults made by the engine's own drain

  /// Drains the ring on this vCPU before the run loop does, as the installed fault says.
  func drainOwn(_ own: OwnDrainFault) {
    guard own.ring.hasPendingWrites else { return }
    let applied: Int
    if own.fault == .exitBeforeDrain {
      window.pendingWindows += 1
      guard window.pendingWindows % own.every == 0 else { return }
      applied = own.ring.drain(through: OwnDrain(handler: self, holding: true))
    } else {
      applied = own.ring.drain(through: OwnDrain(handler: self, holding: false))
      if let reordered = window.reordered {
        window.reordered = nil
        applyOwn(reordered)
      }
    }
    coalesced!.counters.add(.appliedByFaultDrains, UInt64(applied))
  }

  /// One entry of the engine's own drain: held for after the exit, or applied with the ring
  /// fault's damage.
  func ownEntry(_ write: GuestWrite, holding: Bool) {
    if holding {
      window.held.append(write)
      return
    }
    guard let own = ownDrain else { return applyOwn(write) }
    window.faultEntries += 1
    let victim = window.faultEntries % own.every == 0
    switch own.fault {
    case .dropCoalesced where victim:
      return
    case .duplicateCoalesced where victim:
      applyOwn(write)
      applyOwn(write)
    case .reorderCoalesced:
      if let held = window.reordered, writer(of: held) == writer(of: write) {
        window.reordered = nil
        applyOwn(write)
        applyOwn(held)
      } else if victim && window.reordered == nil {
        window.reordered = write
      } else {
        applyOwn(write)
      }
    default:
      applyOwn(write)
    }
  }

  /// Applies an entry the engine's own drain took: a ring entry by construction.
  private func applyOwn(_ write: GuestWrite) {
    inSection(longOneIn: 256) {
      let checks = coalesced!
      if let slot = checks.layout.slot(write.space, write.address) {
        checks.judgeRingEntry(checks.apply(write, slot: slot), applier: "vCPU \(vcpu)'s own drain")
      } else {
        checks.violations.record(
          .coalescedLate, "vCPU \(vcpu)'s own drain found a write outside every range: \(write)")
      }
    }
  }

  /// exit-before-drain: applies the entries taken before the exit, now that it was applied.
  private func applyHeld() {
    guard !window.held.isEmpty else { return }
    let held = window.held
    window.held.removeAll(keepingCapacity: true)
    window.appliedLate += held.count
    for write in held {
      if write.space == .pio {
        portWrite(
          port: UInt16(truncatingIfNeeded: write.address), size: write.size, value: write.value)
      } else {
        mmioWrite(address: write.address, size: write.size, value: write.value)
      }
    }
  }

  private func writer(of write: GuestWrite) -> UInt8? {
    SequencedValue(decoding: write.value, size: write.size)?.writer
  }
}

/// The engine's own drain of the ring, handing each entry to the vCPU's handler.
private struct OwnDrain<Flavor: RCUFlavor>: GuestIOHandler {
  let handler: CheckedExitHandler<Flavor>
  /// Take the entries to apply after the exit (exit-before-drain), rather than now.
  let holding: Bool

  func portWrite(port: UInt16, size: Int, value: UInt64) {
    handler.ownEntry(
      GuestWrite(space: .pio, address: UInt64(port), size: size, value: value), holding: holding)
  }

  func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    handler.ownEntry(
      GuestWrite(space: .mmio, address: address, size: size, value: value), holding: holding)
  }

  /// Never called: the ring holds writes only.
  func portRead(port: UInt16, size: Int) -> UInt64 { BusExitHandler<Flavor>.unclaimedReadValue }

  /// Never called: the ring holds writes only.
  func mmioRead(address: UInt64, size: Int) -> UInt64 {
    BusExitHandler<Flavor>.unclaimedReadValue
  }
}
