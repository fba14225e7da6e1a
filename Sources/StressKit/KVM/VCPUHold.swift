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
///
/// Bounded, so that the guest always goes on: one hold at a time (a hotplug thread that
/// finds one on does not hold), each vCPU waits once per hold, and at most
/// ``longestWaitNanoseconds`` (a long preemption). Unbounded and nested, holds overlapped
/// without a gap when KVM's ioctls slowed down (30 hotplug threads queued on KVM's
/// slots_lock beside two CPU hogs): the vCPUs stayed held, no guest round ended, and a 2 s
/// `stress kvm` run was still going after 12 minutes.
final class VCPUHold: Sendable {
  /// The longest a vCPU waits at one exit: 20 ms.
  static var longestWaitNanoseconds: UInt64 { 20_000_000 }

  private let vcpus: Int
  /// Holds ever started: each hold's number.
  private let started = Atomic<UInt64>(0)
  /// The number of the hold on now; 0 when none is.
  private let current = Atomic<UInt64>(0)
  /// vCPUs waiting right now.
  private let waiting = Atomic<Int>(0)
  private let held = Atomic<Int>(0)

  /// A hold over `vcpus` vCPUs.
  init(vcpus: Int) { self.vcpus = vcpus }

  /// Holds the vCPUs from their next exit on, unless a hold is already on (then returns
  /// false: there is nothing to ``release()``), and waits up to `timeout` nanoseconds for
  /// all of them to be held (between rounds they never are).
  func hold(waitingUpTo timeout: UInt64) -> Bool {
    // A refused hold uses up its number: numbers need only be unique, not consecutive.
    let number = started.add(1, ordering: .relaxed).newValue
    // Acquiring and releasing: pairs with the releasing store in `release` (the previous
    // hold is over) and with the acquiring loads in `waitWhileHeld`.
    guard
      current.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
        .exchanged
    else { return false }
    let deadline = monotonicNanoseconds() + timeout
    while waiting.load(ordering: .acquiring) < vcpus && monotonicNanoseconds() < deadline {
      usleep(20)
    }
    return true
  }

  /// Ends the hold; the vCPUs go on. Releasing: pairs with the acquiring loads in
  /// `waitWhileHeld` and the exchange in `hold`.
  func release() { current.store(0, ordering: .releasing) }

  /// Exits at which a vCPU was held.
  var heldExits: Int { held.load(ordering: .relaxed) }

  /// Called by each vCPU after KVM_RUN returns, before anything else: waits while held, if
  /// the hold on is not `lastHeld` (the last one this vCPU waited for, which this updates),
  /// and for ``longestWaitNanoseconds`` at most.
  @inline(__always)
  func waitWhileHeld(lastHeld: inout UInt64) {
    // Acquiring: pairs with the exchange in `hold`.
    let number = current.load(ordering: .acquiring)
    guard number != 0, number != lastHeld else { return }
    lastHeld = number
    held.add(1, ordering: .relaxed)
    // Releasing: pairs with the holder's acquiring load of `waiting`.
    waiting.add(1, ordering: .releasing)
    let deadline = monotonicNanoseconds() + Self.longestWaitNanoseconds
    // Acquiring: pairs with the releasing store in `release`.
    while current.load(ordering: .acquiring) == number && monotonicNanoseconds() < deadline {
      usleep(50)
    }
    waiting.subtract(1, ordering: .releasing)
  }
}
