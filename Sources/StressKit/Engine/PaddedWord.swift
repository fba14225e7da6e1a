import Synchronization

/// One thread's word that other threads read, padded so that no two threads' words share a
/// cache line (or its adjacent-line prefetch pair): its owner writes it on every section,
/// and a neighbour's write must never invalidate its line.
final class PaddedWord: Sendable {
  /// The word; what it holds is the owner's business (a section's start, its epoch).
  let value = Atomic<UInt64>(0)
  private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
  private let morePadding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

  /// A word holding 0.
  init() {
    padding = (0, 0, 0, 0, 0, 0, 0, 0)
    morePadding = (0, 0, 0, 0, 0, 0, 0)
  }
}
