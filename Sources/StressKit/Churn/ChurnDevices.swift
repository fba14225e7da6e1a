import ConcurrentBus
import Synchronization

/// The device model behind the eventfd window: takes every access, counts nothing (the
/// vCPUs count what they were answered).
final class ModelDevice: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { offset }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

/// A hot-plugged range device that checks its own grace period:
/// - it counts the threads inside it (``Occupancy``): none may be inside when its
///   unregister returns or its release runs (`inside-at-release`);
/// - it checks, on the way in and on the way out, that it was not poisoned, which the
///   tool does right after that check (`use-after-unregister`).
///
/// It lingers inside `write`, mostly for a moment and sometimes for up to a millisecond
/// (``Linger``), so that a grace period that does not wait ends with a reader inside.
final class PoisonDevice: IODevice {
  /// Threads inside it now.
  let occupancy = Occupancy()
  private let poisonedAt = Atomic<UInt64>(0)
  private let registration = Atomic<UInt64>(0)
  private let violations: Violations

  init(violations: Violations) {
    self.violations = violations
  }

  /// Remembers which registration this device is, for reports.
  func attach(_ id: RegistrationID) { registration.store(id.rawValue, ordering: .relaxed) }

  /// The registration it was attached to, for reports.
  var id: RegistrationID { RegistrationID(rawValue: registration.load(ordering: .relaxed)) }

  /// Marks the moment its unregister returned (or its deferred release ran). Releasing:
  /// pairs with the acquiring load in `check(on:)`, so a thread that finds the device
  /// poisoned also sees what the unregister did before.
  func poison() { poisonedAt.store(monotonicNanoseconds(), ordering: .releasing) }

  func read(offset: UInt64, size: Int) -> UInt64? {
    occupancy.enter()
    check(on: "read entry")
    occupancy.leave()
    return offset
  }

  /// `value` is the vCPU's random word: it also picks how long to linger.
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    occupancy.enter()
    check(on: "write entry")
    Linger.stay(value)
    check(on: "write exit")
    occupancy.leave()
    return true
  }

  @inline(__always)
  private func check(on place: String) {
    // Acquiring: pairs with the releasing store in `poison`.
    let poisoned = poisonedAt.load(ordering: .acquiring)
    guard poisoned != 0 else { return }
    let late = monotonicNanoseconds() &- poisoned
    violations.record(
      .useAfterUnregister,
      "range registration \(id): \(place) \(late / 1000) us after its unregister returned")
  }
}
