import Synchronization

/// The in-device counter: how many threads are inside one device right now.
///
/// A device counts itself in on entry and out on exit. When its synchronous unregister
/// returns, or its deferred release runs, the count must be zero: every thread that
/// entered it found it in a table from before the removal, so its read-side section
/// began before the removal's grace period, and RCU orders that whole section, the
/// counting out included, before the grace period ends (the same argument as
/// ``SectionEpochs``). A nonzero count is a thread the grace period did not wait for.
final class Occupancy: Sendable {
  private let inside = Atomic<Int>(0)

  /// A thread enters the device.
  @inline(__always)
  func enter() {
    // Relaxed: the grace period, not this add, orders it against the check.
    inside.add(1, ordering: .relaxed)
  }

  /// The thread leaves the device.
  @inline(__always)
  func leave() {
    // Releasing: the device's work stays before the count drops; pairs with `count`.
    inside.subtract(1, ordering: .releasing)
  }

  /// Threads inside now. Acquiring: pairs with `leave`.
  var count: Int { inside.load(ordering: .acquiring) }
}
