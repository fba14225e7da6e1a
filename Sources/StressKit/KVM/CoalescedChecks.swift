import ConcurrentBus
import HostSupport
import KVM
import KVMGuests
import RCU
import Synchronization

/// What `kvm --coalesced` counts, one shard per thread.
enum CoalescedCounter: Int, CaseIterable {
  /// Ring entries the vCPUs' run loops applied (their `drainedCoalescedWrites`).
  case appliedByRunLoops
  /// Ring entries the engine's own drains applied on the vCPUs (ring faults only).
  case appliedByFaultDrains
  /// Ring entries applied by coalesced unregisters, on hotplug threads and at the end.
  case appliedByUnregisters
  /// Coalesced unregisters whose drain applied buffered writes of the range being
  /// unregistered: those whose order against the bus unregister matters.
  case ownRangeDrains
  /// Sequenced writes that reached no device (their range was out at that moment).
  case unclaimed
  /// Churned ranges registered on the bus and as a KVM coalesced zone.
  case zoneRegistrations
  /// Churned ranges registered on the bus alone (their writes exit).
  case busOnlyRegistrations
  /// Churned zones unregistered.
  case zoneUnregistrations
}

/// One write to a coalesced range as it was applied, kept until the run loop's order shows
/// whether it came from the ring or was the exit in hand.
struct CoalescedAccess {
  let write: GuestWrite
  /// Whether a device took it.
  let claimed: Bool
  /// Whether its range could have had buffered writes when it was applied (a zone, or one
  /// being unregistered).
  let eligible: Bool
}

/// The checks every coalesced write goes through, shared by the vCPUs' exit handlers, the
/// unregister drains and the devices:
/// - every sequenced value once, in its writer's order (``SequenceCheck``, its violations
///   fed to the report as they happen);
/// - a ring entry is claimed by a device (``ViolationKind/coalescedUnclaimed``), and only
///   applied while its range may hold buffered writes (``ViolationKind/coalescedLate``):
///   from just before its zone is registered until its unregister has returned;
/// - a stable range claims every write (``ViolationKind/lostSignal``).
///
/// Why the ring checks are exact: a zone's bus registration outlives the zone with a drain
/// in between, and a drain marks an entry consumed only after applying it; so under the
/// mirror's order every entry is applied while its device is on the bus, before the
/// unregister's drain returns, and before the range stops being eligible (which happens
/// after that, on the same thread, after taking the drain lock the applier held).
final class CoalescedChecks<Flavor: RCUFlavor>: Sendable {
  let layout: CoalescedLayout
  let sequence: SequenceCheck
  let violations: Violations
  let counters = ShardedCounters<CoalescedCounter>()
  let portBus: IOBus<Flavor>
  let mmioBus: IOBus<Flavor>
  private let eligible: [EligibleFlag]
  /// How many of the check's kept violations the report has.
  private let fed = Mutex(0)

  init(
    layout: CoalescedLayout, writers: Int, violations: Violations, portBus: IOBus<Flavor>,
    mmioBus: IOBus<Flavor>
  ) {
    self.layout = layout
    self.violations = violations
    self.portBus = portBus
    self.mmioBus = mmioBus
    sequence = SequenceCheck(writers: writers)
    eligible = layout.ranges.map { EligibleFlag($0.stable) }
  }

  /// Applies a write to the range of layout slot `slot` through its bus, feeding it to the
  /// sequence check when no device takes it.
  @inline(__always)
  func apply(_ write: GuestWrite, slot: Int) -> CoalescedAccess {
    let eligible = eligible[slot].isOn
    let bus = write.space == .pio ? portBus : mmioBus
    let claimed =
      bus.write(address: write.address, size: write.size, value: write.value) != .unclaimed
    if !claimed { unclaimed(write, slot: slot) }
    return CoalescedAccess(write: write, claimed: claimed, eligible: eligible)
  }

  private func unclaimed(_ write: GuestWrite, slot: Int) {
    counters.add(.unclaimed)
    record(write.value, size: write.size)
    if layout.ranges[slot].stable {
      violations.record(.lostSignal, "stable coalesced range took no write: \(write)")
    }
  }

  /// Judges an access known to have come from the ring, applied by `applier`.
  func judgeRingEntry(_ access: CoalescedAccess, applier: @autoclosure () -> String) {
    if !access.claimed {
      violations.record(
        .coalescedUnclaimed, "\(applier()) applied a buffered write no device took: \(access.write)"
      )
    }
    if !access.eligible {
      violations.record(
        .coalescedLate,
        "\(applier()) applied a buffered write while its range was no zone: \(access.write)")
    }
  }

  /// Records a delivered sequenced value; a violation is reported at once.
  func record(_ value: UInt64, size: Int) {
    if !sequence.record(value, size: size) { feed() }
  }

  /// Reports the check's violations not reported yet (the first ``SequenceCheck/keptViolations``
  /// of them; the rest only count).
  private func feed() {
    fed.withAnnotatedLock(owner: self) { fed in
      let kept = sequence.violations
      for violation in kept.dropFirst(fed) {
        violations.record(violation.kind.violationKind, "\(violation)")
      }
      fed = kept.count
    }
  }

  /// The range of layout slot `slot` may hold buffered writes from now on: call before its
  /// zone is registered.
  func allowBufferedWrites(_ slot: Int) { eligible[slot].set(true) }

  /// The range of layout slot `slot` holds no buffered write any more: call once its
  /// unregister has returned.
  func forbidBufferedWrites(_ slot: Int) { eligible[slot].set(false) }

  /// The tail of the sequence check: each writer delivered exactly what its guest executed.
  func finish(executed: [Int]) {
    for (writer, count) in executed.enumerated() {
      let delivered = sequence.delivered(writer: writer)
      if delivered != count {
        violations.record(
          .sequenceCount,
          "writer \(writer): the guest executed \(count) sequenced writes, \(delivered) were "
            + (delivered < count ? "delivered (lost)" : "delivered (duplicated)"))
      }
    }
  }
}

/// Whether one range may hold buffered writes.
private final class EligibleFlag: Sendable {
  private let value: Atomic<Bool>
  init(_ on: Bool) { value = Atomic(on) }

  /// Releasing, pairing with `isOn`: set before the zone's ioctl, so a vCPU that applies an
  /// entry the zone buffered (after the ioctl, through the kernel and the ring's acquiring
  /// load of its tail) sees it set.
  func set(_ on: Bool) { value.store(on, ordering: .releasing) }

  /// Acquiring: pairs with the releasing store in `set(_:)`.
  @inline(__always)
  var isOn: Bool { value.load(ordering: .acquiring) }
}
