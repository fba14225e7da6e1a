import Synchronization

/// The "none after unregister returned" check for rings, exact per write.
///
/// A global count of ring retirements: a hotplug thread advances it once an unregister or a
/// move of rings has returned, and gives each registration it retired (unregistered, or
/// replaced by a move) the new count as its retirement index. Each vCPU reads the count
/// inside its read-side section before a ring write and keeps, per registration that
/// claimed its writes, the highest count it read. A registration that claimed a write
/// issued after the vCPU read a count at or above the registration's retirement index
/// claimed a write issued after its unregister (or move) returned: a violation.
///
/// Why it is exact: the advance is a releasing increment made after the unregister returned,
/// so after its publish; a vCPU whose acquiring load read that count or a later one has
/// the publish in its past, and its table load (later in program order, and kept after the
/// acquiring load) reads that table or a newer one, which does not hold the registration.
/// So under a correct bus no such claim exists; a bus (or an engine) that lets an unregister
/// return before its publish is caught by the first write in between.
final class RingRetirements: Sendable {
  private let count = Atomic<UInt64>(0)

  /// Counts one retirement that has returned and gives its index.
  func advance() -> UInt64 {
    // Releasing: the unregister's publish, before this, is visible to a vCPU that reads
    // the new count (see the type's comment); pairs with the acquiring load in `current`.
    count.add(1, ordering: .releasing).newValue
  }

  /// The retirements so far; read by a vCPU inside its section before a ring write.
  @inline(__always)
  var current: UInt64 {
    // Acquiring: pairs with `advance`; the vCPU's table load stays after it.
    count.load(ordering: .acquiring)
  }
}
