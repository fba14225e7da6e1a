import ConcurrentBus
import HostSupport
import KVM
import RCU

/// The handler a coalesced unregister drains the ring through (on its hotplug thread, or
/// the main thread for the stable ranges at the end): every write it gets is a ring entry,
/// so each must be claimed by a device and its range still eligible (see
/// ``CoalescedChecks``). A drain that came too late, or after the bus registration left,
/// shows here or on the vCPU that applies the entries instead.
///
/// Each entry is applied inside a read-side section of the drain's own ``SectionEpochs``
/// slot, lingering sometimes, so the stale-section check covers drains as it covers vCPUs.
/// The thread hooks register the thread with the flavor for the drain and unregister it
/// after, as `BusExitHandler` does (on QSBR the drain is the only time this thread reads).
///
/// @unchecked Sendable: `random` is used only by the one thread that owns this drain (the
/// hotplug thread of its churned range, or the main thread).
final class UnregisterDrain<Flavor: RCUFlavor>: GuestIOHandler, @unchecked Sendable {
  private let checks: CoalescedChecks<Flavor>
  private let sections: SectionEpochs
  private let section: Int
  /// The layout slot of the range this drain unregisters, if one.
  private let range: Int?
  private var random: SplitMix64
  /// Writes of `range` the current drain applied.
  private var appliedOwn = 0
  /// The vCPU hold to end once this drain is done: the vCPUs were held only so the drain
  /// would find their buffered writes.
  var releasesHold: VCPUHold?

  /// A drain reading in `sections` slot `section`, for the unregisters of layout slot
  /// `range` (nil for the final drains of the stable ranges).
  init(
    checks: CoalescedChecks<Flavor>, sections: SectionEpochs, section: Int, range: Int?,
    seed: UInt64
  ) {
    self.checks = checks
    self.sections = sections
    self.section = section
    self.range = range
    random = SplitMix64(seed: seed ^ UInt64(section + 1) &* 0xA24B_AED4_963E_E407)
  }

  func portWrite(port: UInt16, size: Int, value: UInt64) {
    apply(GuestWrite(space: .pio, address: UInt64(port), size: size, value: value))
  }

  func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    apply(GuestWrite(space: .mmio, address: address, size: size, value: value))
  }

  /// Never called: the ring holds writes only.
  func portRead(port: UInt16, size: Int) -> UInt64 { BusExitHandler<Flavor>.unclaimedReadValue }

  /// Never called: the ring holds writes only.
  func mmioRead(address: UInt64, size: Int) -> UInt64 {
    BusExitHandler<Flavor>.unclaimedReadValue
  }

  func beginDispatching() {
    appliedOwn = 0
    Flavor.registerCurrentThread()
  }

  func endDispatching() {
    Flavor.unregisterCurrentThread()
    if appliedOwn > 0 { checks.counters.add(.ownRangeDrains) }
    releaseHold()
  }

  /// Ends the vCPU hold this drain was to end, if any is left.
  func releaseHold() {
    releasesHold?.release()
    releasesHold = nil
  }

  private func apply(_ write: GuestWrite) {
    sections.enter(section, flavor: Flavor.self)
    if let slot = checks.layout.slot(write.space, write.address) {
      if slot == range { appliedOwn += 1 }
      checks.judgeRingEntry(checks.apply(write, slot: slot), applier: "an unregister's drain")
    } else {
      checks.violations.record(
        .coalescedLate, "an unregister's drain found a write outside every range: \(write)")
    }
    Linger.stay(random.next())
    sections.leave(section, flavor: Flavor.self)
  }
}
