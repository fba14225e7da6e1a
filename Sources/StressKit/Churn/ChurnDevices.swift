import HostSupport
import ConcurrentBus
import Synchronization

/// The device model behind the eventfd window: takes every access, counts nothing (the
/// vCPUs count what they were answered).
final class ModelDevice: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { offset }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

/// A hot-plugged range device that checks, on the way in and on the way out, that its
/// unregister has not returned: the grace-period check on devices.
///
/// It lingers a little inside `write` so that a grace period that does not wait is caught
/// with a reader still inside, not only by the rare reader that enters late.
final class PoisonDevice: IODevice {
  private let poisonedAt = Atomic<UInt64>(0)
  private let registration = Atomic<UInt64>(0)
  private let violations: Violations

  init(violations: Violations) {
    self.violations = violations
  }

  /// Remembers which registration this device is, for reports.
  func attach(_ id: RegistrationID) { registration.store(id.rawValue, ordering: .relaxed) }

  /// Marks the moment its unregister returned (or its deferred release ran).
  func poison() { poisonedAt.store(monotonicNanoseconds(), ordering: .releasing) }

  func read(offset: UInt64, size: Int) -> UInt64? {
    check(on: "read entry")
    return offset
  }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    check(on: "write entry")
    linger(512, seed: value)
    check(on: "write exit")
    return true
  }

  @inline(__always)
  private func check(on place: String) {
    let poisoned = poisonedAt.load(ordering: .acquiring)
    guard poisoned != 0 else { return }
    let late = monotonicNanoseconds() &- poisoned
    violations.record(
      .useAfterUnregister,
      "range registration #\(registration.load(ordering: .relaxed)): \(place) \(late / 1000) us after its unregister returned"
    )
  }
}
