import ConcurrentBus
import HostSupport
import RCU
import Synchronization

/// The device of one registration of a coalesced range (a fresh one per registration):
/// feeds every write to the sequence check, answers reads with the value last written, and
/// reports any write that reaches it after its unregister returned (`use-after-unregister`):
/// whether the write exited or came from the ring, nothing may reach a device once its
/// removal's grace period has passed and its buffered writes have been drained.
final class CoalescedSlotDevice<Flavor: RCUFlavor>: IODevice {
  /// The range's layout slot.
  let slot: Int
  private let checks: CoalescedChecks<Flavor>
  private let last = Atomic<UInt64>(0)
  /// When the unregister returned (monotonic nanoseconds), or 0.
  private let releasedAt = Atomic<UInt64>(0)

  init(slot: Int, checks: CoalescedChecks<Flavor>) {
    self.slot = slot
    self.checks = checks
  }

  func read(offset: UInt64, size: Int) -> UInt64? { last.load(ordering: .relaxed) }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    // Acquiring, pairing with `release`: a write that began after the release sees it (the
    // grace period orders every write that began before it ahead of the release).
    let released = releasedAt.load(ordering: .acquiring)
    if released != 0 {
      let range = checks.layout.ranges[slot]
      checks.violations.record(
        .useAfterUnregister,
        "the device of \(range.space) range 0x\(String(range.address, radix: 16)) took "
          + "0x\(String(value, radix: 16)) \(monotonicNanoseconds() - released) ns after its "
          + "unregister returned")
    }
    checks.record(value, size: size)
    last.store(value, ordering: .relaxed)
    return true
  }

  /// Its unregister returned: from now on no write may reach it. Idempotent (the first time
  /// counts).
  func release() {
    // Releasing: pairs with the acquiring load in `write`.
    _ = releasedAt.compareExchange(
      expected: 0, desired: monotonicNanoseconds(), ordering: .releasing)
  }
}
