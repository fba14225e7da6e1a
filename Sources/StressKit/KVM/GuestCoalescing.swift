import ConcurrentBus
import KVM
import KVMGuests
import RCU
import Synchronization

/// The coalesced part of a `stress kvm --coalesced` run: the mirror and the checks, the
/// two stable ranges (registered through the mirror for the whole run), the hotplug threads
/// churning the others, and the round and final checks.
final class GuestCoalescing<Flavor: RCUFlavor>: Sendable {
  let checks: CoalescedChecks<Flavor>
  let mirror: KernelCoalescedMirror<Flavor>
  let hotplug: Hotplug<CoalescedTarget<Flavor>>
  /// The vCPUs' own drain, under a fault that needs one.
  let ownDrain: OwnDrainFault?
  /// Holds the vCPUs during some coalesced unregisters.
  let hold: VCPUHold
  /// The main thread's drain, for the stable ranges at the end.
  private let finalDrain: UnregisterDrain<Flavor>
  private let stable = Mutex<[(CoalescedRegistration, CoalescedSlotDevice<Flavor>)]>([])

  /// The ``SectionEpochs`` slots it needs after the vCPUs' own: one per churned range's
  /// drain, and the final drain's.
  static func sectionSlots(_ configuration: GuestChurnConfiguration) -> Int {
    configuration.coalescedRanges + 1
  }

  /// Sets up over `portBus` and `mmioBus` for `guest`'s VM; its drains read in `sections`
  /// slots from `firstSection` on (``sectionSlots(_:)`` of them).
  init(
    configuration: GuestChurnConfiguration, guest: GuestRun, portBus: IOBus<Flavor>,
    mmioBus: IOBus<Flavor>, sections: SectionEpochs, firstSection: Int, violations: Violations,
    shortfalls: Shortfalls, changeGate: ChangeGate?
  ) throws {
    let layout = CoalescedLayout(churned: configuration.coalescedRanges)
    checks = CoalescedChecks(
      layout: layout, writers: configuration.vcpus, violations: violations, portBus: portBus,
      mmioBus: mmioBus)
    mirror = try KernelCoalescedMirror(vm: guest.vm, portBus: portBus, mmioBus: mmioBus)
    let fault = configuration.fault
    hold = VCPUHold(vcpus: configuration.vcpus)
    ownDrain =
      fault.drainsOnVCPU
      ? OwnDrainFault(fault: fault, every: configuration.faultRate, ring: mirror.ring) : nil
    let target = CoalescedTarget(
      mirror: mirror, checks: checks, sections: sections, firstSection: firstSection,
      hold: hold, fault: fault, faultEvery: configuration.faultRate, seed: configuration.seed,
      changeGate: changeGate)
    finalDrain = UnregisterDrain(
      checks: checks, sections: sections, section: firstSection + configuration.coalescedRanges,
      range: nil, seed: configuration.seed)
    hotplug = Hotplug(
      target: target, threads: min(configuration.hotplugThreads, configuration.coalescedRanges),
      sections: sections, violations: violations, shortfalls: shortfalls,
      seed: configuration.seed &+ 0x5851_F42D,
      skipEvery: fault == .skipGracePeriod ? configuration.faultRate : 0)
  }

  /// The sequenced writes every vCPU makes per loop iteration.
  var sequencedWrites: [GuestProgram.SequencedWrite] { checks.layout.sequencedWrites }

  /// Registers the stable ranges through the mirror.
  func registerStable() throws {
    for slot in 0..<CoalescedLayout.stableCount {
      let range = checks.layout.ranges[slot]
      let device = CoalescedSlotDevice(slot: slot, checks: checks)
      let registration = try mirror.register(
        device, space: range.space, base: range.address, length: range.length)
      stable.withAnnotatedLock(owner: self) { $0.append((registration, device)) }
    }
  }

  /// Unregisters the stable ranges through the mirror, draining on this thread.
  func unregisterStable() {
    for (registration, device) in stable.withAnnotatedLock(owner: self, { $0 }) {
      do {
        let applied = try mirror.unregister(registration, drainingThrough: finalDrain)
        checks.counters.add(.appliedByUnregisters, UInt64(applied))
        device.release()
      } catch {
        checks.violations.record(.hotplugFailure, "stable coalesced unregister: \(error)")
      }
    }
  }

  /// After a round, the vCPU threads joined: each vCPU's ring count against its run loop's.
  func checkRound(_ handlers: [CheckedExitHandler<Flavor>], _ statistics: [RunStatistics]) {
    for (handler, vcpu) in zip(handlers, statistics) {
      handler.checkRingCount(drainedByRunLoop: vcpu.drainedCoalescedWrites)
      checks.counters.add(.appliedByRunLoops, UInt64(vcpu.drainedCoalescedWrites))
    }
  }

  /// The final checks, after every guest halted and every range was unregistered, and what
  /// the run did.
  func finish(guest: GuestRun) throws -> CoalescedSummary {
    let summary = try summary(guest: guest)
    checks.finish(
      executed: try guest.vcpus.indices.map { Int(try guest.sequenceCounter(vcpu: $0)) })
    return summary
  }

  /// What the coalesced part did so far; read between guest rounds.
  func summary(guest: GuestRun) throws -> CoalescedSummary {
    let executed = try guest.vcpus.indices.map { Int(try guest.sequenceCounter(vcpu: $0)) }
    let counters = checks.counters
    let applied =
      counters[.appliedByRunLoops] + counters[.appliedByFaultDrains]
      + counters[.appliedByUnregisters]
    return CoalescedSummary(
      ranges: checks.layout.ranges.count, churnedRanges: checks.layout.churnedSlots.count,
      sequencedWrites: executed.reduce(0, +),
      sequencedWritesPerVCPU: executed.min() ?? 0,
      delivered: guest.vcpus.indices.map { checks.sequence.delivered(writer: $0) }.reduce(0, +),
      unclaimed: Int(counters[.unclaimed]), ringEntries: Int(applied),
      appliedByRunLoops: Int(counters[.appliedByRunLoops]),
      appliedByUnregisters: Int(counters[.appliedByUnregisters]),
      appliedByFaultDrains: Int(counters[.appliedByFaultDrains]),
      ownRangeDrains: Int(counters[.ownRangeDrains]), heldExits: hold.heldExits,
      zoneRegistrations: Int(counters[.zoneRegistrations]),
      zoneUnregistrations: Int(counters[.zoneUnregistrations]),
      busOnlyRegistrations: Int(counters[.busOnlyRegistrations]),
      removalChecks: hotplug.removalChecks, sectionsSeenByChecks: hotplug.counters[.sectionsSeen])
  }
}

/// What the coalesced part of a `stress kvm --coalesced` run did (`coalesced` in its JSON).
public struct CoalescedSummary: Codable, Sendable {
  /// Coalesced ranges, the two stable ones included, and the churned ones among them.
  public let ranges: Int
  public let churnedRanges: Int
  /// Sequenced writes the guests executed (`CoalescedLayout.sequencedWrites` per loop
  /// iteration), in total and on the vCPU that executed the fewest.
  public let sequencedWrites: Int
  public let sequencedWritesPerVCPU: Int
  /// Sequenced values delivered (to a device, or seen unclaimed), and those unclaimed.
  public let delivered: Int
  public let unclaimed: Int
  /// Writes KVM buffered in the coalesced ring and the tool applied: by the vCPUs' run
  /// loops, by coalesced unregisters, by a fault's own drains.
  public let ringEntries: Int
  public let appliedByRunLoops: Int
  public let appliedByUnregisters: Int
  public let appliedByFaultDrains: Int
  /// Coalesced unregisters whose drain applied writes of their own range (those the order
  /// of drain and bus unregister matters for).
  public let ownRangeDrains: Int
  /// vCPU exits held during an unregister (``VCPUHold``).
  public let heldExits: Int
  /// Churned ranges registered as zones (bus and kernel), unregistered, and registered on
  /// the bus alone.
  public let zoneRegistrations: Int
  public let zoneUnregistrations: Int
  public let busOnlyRegistrations: Int
  /// The coalesced hotplug's removal checks, and the sections they found.
  public let removalChecks: UInt64
  public let sectionsSeenByChecks: UInt64

  /// The least work after which "no violation" means something for the coalesced checks.
  var minimumWork: [WorkMeasure] {
    [
      WorkMeasure(
        "sequenced writes per vCPU", done: UInt64(sequencedWritesPerVCPU), required: 10_000),
      WorkMeasure(
        "writes applied from the coalesced ring", done: UInt64(ringEntries), required: 10_000),
      WorkMeasure("zone registrations", done: UInt64(zoneRegistrations), required: 50),
      WorkMeasure("zone unregistrations", done: UInt64(zoneUnregistrations), required: 50),
      WorkMeasure(
        "unregisters that drained their own range's writes", done: UInt64(ownRangeDrains),
        required: 5),
    ]
  }

  /// The report's lines.
  var lines: [String] {
    [
      "  coalesced: \(ranges) ranges (\(churnedRanges) churned), \(sequencedWrites) sequenced writes, \(delivered) delivered (\(unclaimed) unclaimed)",
      "  coalesced ring: \(ringEntries) writes applied (run loops \(appliedByRunLoops), unregisters \(appliedByUnregisters), fault drains \(appliedByFaultDrains)); \(ownRangeDrains) unregisters drained their own range's writes, \(heldExits) vCPU exits held",
      "  coalesced hotplug: \(zoneRegistrations) zones in, \(zoneUnregistrations) out, \(busOnlyRegistrations) bus-only; \(removalChecks) removal checks finding \(sectionsSeenByChecks) section(s)",
    ]
  }
}
