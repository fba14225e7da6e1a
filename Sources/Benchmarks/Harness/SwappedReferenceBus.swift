import ConcurrentBus
import ConcurrentBusCore
import Synchronization

/// Design (e): the table in an ordinary Swift object behind an atomically swapped reference,
/// which every lookup loads and retains, dispatches through, then releases. This is Rust's
/// `ArcSwap::load_full` and what Swift code reaches for first.
///
/// The reference count is the point of the comparison: every lookup writes the snapshot's
/// shared refcount twice. The short window between loading the pointer and retaining it is
/// covered by a liburcu read-side section (thread-local, no shared write), playing the part
/// of ArcSwap's thread-local debt slots, so that a writer can drop the old snapshot without
/// waiting for readers that already hold their own reference. That makes this baseline no
/// slower than ArcSwap's fast path.
final class SwappedReferenceBus: Sendable {
  // The bits of an `Unmanaged<BusSnapshot>` that owns one retain of the current snapshot.
  private let current: Atomic<UInt>
  // The writer's registry; readers never touch it. Its own flavor's lock is never taken by
  // anyone else, and it publishes tables nobody reads.
  let source: IOBus<UnsynchronizedFlavor>

  init(source: IOBus<UnsynchronizedFlavor>) {
    self.source = source
    current = Atomic(Self.bits(Unmanaged.passRetained(source.makeSnapshot())))
  }

  deinit {
    // Acquiring: pairs with the releasing half of `republish`'s exchange, so the snapshot
    // released here is seen whole.
    Self.unmanaged(current.load(ordering: .acquiring)).release()
  }

  /// One guest write: load the reference, retain it, dispatch, release.
  @inline(__always)
  func write(address: UInt64, size: Int, value: UInt64) -> DispatchResult {
    MembRCU.readLock()
    // Acquiring: pairs with the releasing half of `republish`'s exchange, so the snapshot's
    // table is seen as it was built.
    let snapshot = Self.unmanaged(current.load(ordering: .acquiring))
    _ = snapshot.retain()
    MembRCU.readUnlock()
    let result = snapshot._withUnsafeGuaranteedRef {
      $0.write(address: address, size: size, value: value)
    }
    snapshot.release()
    return result
  }

  /// Publishes a fresh snapshot of `source`; the old one goes when its last reader lets go.
  func republish() {
    let next = Unmanaged.passRetained(source.makeSnapshot())
    // Releasing: pairs with the readers' acquiring load in `write` (they see the new
    // snapshot built); acquiring: pairs with the previous exchange, whose snapshot this
    // one hands to the grace period.
    let old = current.exchange(Self.bits(next), ordering: .acquiringAndReleasing)
    MembRCU.deferUntilGracePeriod { Self.unmanaged(old).release() }
  }

  /// The snapshot whose bits `current` holds.
  @inline(__always)
  static func unmanaged(_ bits: UInt) -> Unmanaged<BusSnapshot> {
    // Safe: `current` only ever holds bits made by `bits(_:)` from a live snapshot.
    Unmanaged.fromOpaque(UnsafeRawPointer(bitPattern: bits).unsafelyUnwrapped)
  }

  private static func bits(_ snapshot: Unmanaged<BusSnapshot>) -> UInt {
    UInt(bitPattern: snapshot.toOpaque())
  }
}
