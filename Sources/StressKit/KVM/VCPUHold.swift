import Glibc
import HostSupport
import Synchronization

/// Holds every vCPU at its next exit, before its run loop drains the coalesced ring, for as
/// long as a hotplug thread asks: as if the vCPU threads had been preempted there.
///
/// Why: a running vCPU exits every few microseconds, and each exit drains the ring, while
/// KVM_UNREGISTER_COALESCED_MMIO waits for KVM's SRCU readers (p50 7 ms, p90 16 ms measured
/// here, loaded). Worse, the kernel takes the zone off its bus first, so the vCPU's next
/// write to the range exits and drains the ring. So the vCPUs have almost always applied a
/// zone's buffered writes themselves before its unregister could, and the unregister's own
/// drain, and its order against the bus unregister, would go untested. Held first, the
/// vCPUs apply nothing: the writes they buffered since their last exit wait in the ring for
/// the unregister to apply them, as they would behind a vCPU thread descheduled between
/// KVM_RUN and its drain.
///
/// A held vCPU waits in `didExitGuest()` before coming back online: on QSBR it is offline,
/// on the other flavors outside any read-side section, so no grace period waits for it, and
/// it holds no lock (the ring's drain lock included). Nothing the holder does waits for a
/// held vCPU: the hold ends when the holder's unregister returns.
final class VCPUHold: Sendable {
  private let vcpus: Int
  private let holders = Atomic<Int>(0)
  /// vCPUs waiting right now.
  private let waiting = Atomic<Int>(0)
  private let held = Atomic<Int>(0)

  /// A hold over `vcpus` vCPUs.
  init(vcpus: Int) { self.vcpus = vcpus }

  /// Holds the vCPUs from their next exit on (holds nest), and waits up to `timeout`
  /// nanoseconds for all of them to be held (between rounds they never are).
  func hold(waitingUpTo timeout: UInt64) {
    // Releasing: pairs with the acquiring load in `waitWhileHeld`.
    holders.add(1, ordering: .releasing)
    let deadline = monotonicNanoseconds() + timeout
    while waiting.load(ordering: .acquiring) < vcpus && monotonicNanoseconds() < deadline {
      usleep(20)
    }
  }

  /// Ends one hold; the vCPUs go on when none is left. Releasing: pairs with the acquiring
  /// loads in `waitWhileHeld`.
  func release() { holders.subtract(1, ordering: .releasing) }

  /// Exits at which a vCPU was held.
  var heldExits: Int { held.load(ordering: .relaxed) }

  /// Called by each vCPU after KVM_RUN returns, before anything else: waits while held.
  @inline(__always)
  func waitWhileHeld() {
    // Acquiring: pairs with the releasing add in `hold`.
    guard holders.load(ordering: .acquiring) > 0 else { return }
    held.add(1, ordering: .relaxed)
    waiting.add(1, ordering: .releasing)
    while holders.load(ordering: .acquiring) > 0 { usleep(50) }
    waiting.subtract(1, ordering: .releasing)
  }
}
