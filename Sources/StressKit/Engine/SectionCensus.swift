import Glibc
import Synchronization

/// Which reader threads are inside a read-side section right now, and since when: what a
/// `stall` report names (rcutorture's stall warning names the CPUs holding the grace period
/// up). Each reader stores the coarse clock in its own slot as it enters its outermost
/// section and clears it as it leaves: a store of a few nanoseconds, on a line no other
/// thread writes.
final class SectionCensus: Sendable {
  private let role: String
  /// Each reader's section start (0: outside), on a line of its own.
  private let slots: [PaddedWord]
  private let started = coarseNanoseconds()

  /// `readers` slots, named `role 0`, `role 1`, ... in reports.
  init(readers: Int, role: String) {
    self.role = role
    slots = (0..<readers).map { _ in PaddedWord() }
  }

  /// Reader `reader` entered its outermost section (call just after the lock).
  @inline(__always)
  func enter(_ reader: Int) {
    slots[reader].value.store(max(coarseNanoseconds(), 1), ordering: .relaxed)
  }

  /// Reader `reader` is leaving its outermost section (call just before the unlock).
  @inline(__always)
  func leave(_ reader: Int) { slots[reader].value.store(0, ordering: .relaxed) }

  /// "reader 0 since 3.200 s into the run (for 2.01 s)", for each reader inside a section.
  func inside() -> [String] {
    let now = coarseNanoseconds()
    return slots.enumerated().compactMap { reader, slot in
      let since = slot.value.load(ordering: .relaxed)
      guard since != 0 else { return nil }
      return "\(role) \(reader) since "
        + String(
          format: "%.3f s into the run (for %.2f s)",
          Double(since &- min(since, started)) / 1e9, Double(now &- min(now, since)) / 1e9)
    }
  }
}

/// The coarse monotonic clock (vDSO, a few nanoseconds, a few milliseconds of resolution).
@inline(__always)
func coarseNanoseconds() -> UInt64 {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
  return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}
