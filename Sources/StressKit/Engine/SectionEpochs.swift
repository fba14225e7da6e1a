import RCU
import Synchronization

/// The stale-section check: when a removal's synchronous unregister returns (or its
/// deferred release runs), no vCPU may still be inside a read-side section that began
/// before the removal was published, whether or not that vCPU is touching the removed
/// device.
///
/// How: a global removal epoch, which the hotplug thread increments *before* it calls
/// unregister (``beginRemoval()``), and one slot per vCPU. Each vCPU opens its own
/// read-side section around every dispatch (``enter(_:flavor:)``), reads the epoch inside
/// it and stores it in its slot, and clears the slot before leaving the section
/// (``leave(_:flavor:)``). After the grace period (``check(removal:)``), a slot holding a
/// nonzero epoch older than the removal's is a vCPU still inside a section that began
/// before the removal was published: a violation.
///
/// Why it is exact (no false positive under a correct RCU), by liburcu's guarantee that
/// a grace period waits for every read-side section that began before it, and that all
/// memory accesses of such a section happen before `synchronize_rcu` returns (and before
/// a `call_rcu` callback runs):
/// - Suppose the check, after the grace period of removal `r`, loads `e` with
///   `0 < e < r` from vCPU `v`'s slot. That value was stored by some section `S` of `v`
///   that read the epoch as `e`, that is, before the increment to `r` (the load of the
///   epoch is ordered before that increment: it read an older value).
/// - The increment is sequenced before the unregister's publish and before its grace
///   period starts (the increment is sequentially consistent; the publish is a release
///   store; `synchronize_rcu` starts with a full barrier). So part of `S` precedes the
///   start of the grace period, and RCU makes all of `S` precede its end: `S`'s closing
///   store of 0 to the slot happens before the check's load.
/// - That store of 0 comes after the store of `e` in the slot's modification order (same
///   thread, program order), so the check cannot read `e`: contradiction. A slot may only
///   show 0 or the epoch of a section that began after the increment (`e >= r`).
/// Conversely, with a grace period that did not wait, any vCPU whose section began before
/// the increment and is still running shows `e < r` and is reported, however it got there.
///
/// The vCPU's epoch load is acquiring, so the table load that follows it in the same
/// section cannot be hoisted above it: a section that found the removed device in an old
/// table read its epoch before that, and is covered if its epoch is older than `r`.
final class SectionEpochs: Sendable {
  /// The epoch of the latest removal; starts at 1 so that 0 means "not in a section".
  private let epoch = Atomic<UInt64>(1)
  /// Each vCPU's section epoch (0: outside), on a line of its own.
  private let slots: [PaddedWord]

  /// One slot per vCPU.
  init(vcpus: Int) {
    slots = (0..<vcpus).map { _ in PaddedWord() }
  }

  /// Opens vCPU `vcpu`'s read-side section around one dispatch and records its epoch.
  @inline(__always)
  func enter<Flavor: RCUFlavor>(_ vcpu: Int, flavor: Flavor.Type) {
    Flavor.readLock()
    // Acquiring, pairing with the increment in `beginRemoval`: the section's later loads
    // (the table) stay after this one; see the type's comment.
    slots[vcpu].value.store(epoch.load(ordering: .acquiring), ordering: .relaxed)
  }

  /// Clears vCPU `vcpu`'s slot and closes its section.
  @inline(__always)
  func leave<Flavor: RCUFlavor>(_ vcpu: Int, flavor: Flavor.Type) {
    // Releasing: the dispatch's accesses stay before the clear; the grace period orders
    // the clear before the check (see the type's comment), whose load it pairs with.
    slots[vcpu].value.store(0, ordering: .releasing)
    Flavor.readUnlock()
  }

  /// Starts a removal: call before the unregister (or batch) that removes; returns the
  /// removal's epoch for ``check(removal:)``.
  func beginRemoval() -> UInt64 {
    // Sequentially consistent: ordered before the publish that follows (see above); pairs
    // with the acquiring load in `enter`.
    epoch.add(1, ordering: .sequentiallyConsistent).newValue
  }

  /// The vCPUs still inside a section that began before removal `removal` was published,
  /// with the epoch each one's section read, and how many vCPUs were inside any section
  /// (how much the check had to look at). Call after the removal's grace period.
  func check(removal: UInt64) -> (stale: [(vcpu: Int, epoch: UInt64)], occupied: Int) {
    var stale: [(vcpu: Int, epoch: UInt64)] = []
    var occupied = 0
    for (vcpu, slot) in slots.enumerated() {
      // Acquiring: pairs with the releasing clear in `leave`, for the report's sake; the
      // check's exactness rests on the grace period (see the type's comment).
      let seen = slot.value.load(ordering: .acquiring)
      guard seen != 0 else { continue }
      occupied += 1
      if seen < removal { stale.append((vcpu, seen)) }
    }
    return (stale, occupied)
  }

  /// The latest removal's epoch (removals begun so far, plus one).
  var current: UInt64 { epoch.load(ordering: .relaxed) }

  /// The vCPUs inside a section right now, each with the removal epoch its section read (so
  /// when it began, counted in removals), for a stall report.
  func census() -> [String] {
    let latest = current
    return slots.enumerated().compactMap { vcpu, slot in
      let seen = slot.value.load(ordering: .relaxed)
      guard seen != 0 else { return nil }
      return "vCPU \(vcpu) (its section began at removal epoch \(seen); the latest is \(latest))"
    }
  }
}
