import CURCU
import Synchronization

/// The current immutable snapshot of a `Payload`, published for lock-free readers.
///
/// Readers borrow the snapshot inside a read-side section: no lock, no reference count, no
/// shared write. Writers, serialized by a lock of their own, build a new payload and
/// ``publish(_:)`` it; the previous snapshot comes back as a ``RetiredSnapshot`` that is
/// destroyed only after a grace period, when no reader can still be looking at it.
///
/// Snapshots live in manually allocated memory rather than in a class instance, because
/// loading a class reference from shared memory makes Swift retain and release it, which is
/// a write to a shared cache line on every read.
public final class RCUPublished<Flavor: RCUFlavor, Payload: ~Copyable>: @unchecked Sendable {
  // @unchecked: `slot` is only written by `publish` (serialized by the caller) and read with
  // liburcu's dereference; the snapshots it points to are immutable while published.
  @usableFromInline let slot: UnsafeMutablePointer<UnsafeMutableRawPointer?>
  private let retired = Atomic<Int>(0)

  /// Publishes `initial` as the first snapshot.
  public init(_ initial: consuming Payload) {
    slot = .allocate(capacity: 1)
    slot.initialize(to: UnsafeMutableRawPointer(Self.box(initial)))
  }

  deinit {
    // Safe: with no reference to `self` left, no reader can be inside it.
    let current = slot.pointee!.assumingMemoryBound(to: Payload.self)
    current.deinitialize(count: 1)
    current.deallocate()
    slot.deallocate()
  }

  /// How many snapshots were replaced but not yet destroyed. After ``RCUFlavor/barrier()``
  /// and any synchronous reclaims, this is zero unless a snapshot leaked.
  public var retiredCount: Int {
    // Acquiring: pairs with the releasing decrement in `destroy`, so a caller that sees a
    // snapshot counted out sees it destroyed.
    retired.load(ordering: .acquiring)
  }

  /// Borrows the current snapshot. The caller must be inside a read-side section, and
  /// nothing borrowed may escape `body`.
  @inlinable @inline(__always)
  public func withCurrent<Result>(_ body: (borrowing Payload) -> Result) -> Result {
    // Safe: inside a read-side section the published snapshot is not destroyed, and the
    // slot is never nil after init.
    // Ordering: rcu_dereference is a consume load. Every later read of the snapshot goes
    // through the loaded pointer (an address dependency), so it sees the contents the
    // writer initialized before its release-ordered exchange in `publish`.
    let raw = curcu_dereference(slot).unsafelyUnwrapped
    return body(raw.assumingMemoryBound(to: Payload.self).pointee)
  }

  /// Enters a read-side section and borrows the current snapshot for the length of `body`.
  @inlinable @inline(__always)
  public func read<Result>(_ body: (borrowing Payload) -> Result) -> Result {
    Flavor.withReadSection { withCurrent(body) }
  }

  /// Borrows the current snapshot from any thread, whatever the flavor's rules for readers
  /// (see ``RCUFlavor/withReadSectionFromAnyThread(_:)``): for management code, not for a
  /// hot path.
  public func readFromAnyThread<Result>(_ body: (borrowing Payload) -> Result) -> Result {
    Flavor.withReadSectionFromAnyThread { withCurrent(body) }
  }

  /// Makes `next` the current snapshot and hands back the previous one.
  ///
  /// Callers must serialize calls to `publish` (one writer at a time). Readers that started
  /// before the call may still see the previous snapshot until a grace period has elapsed;
  /// the returned value must be reclaimed through one of its consuming methods.
  public func publish(_ next: consuming Payload) -> RetiredSnapshot<Flavor, Payload> {
    retired.add(1, ordering: .relaxed)
    // Ordering: rcu_xchg_pointer is a full barrier, so the new snapshot's contents are
    // visible before any reader can load its address; the old pointer it returns is the
    // only one readers could still be using.
    let old = curcu_exchange(slot, UnsafeMutableRawPointer(Self.box(next)))!
    return RetiredSnapshot(pointer: old.assumingMemoryBound(to: Payload.self), owner: self)
  }

  func destroy(_ pointer: UnsafeMutablePointer<Payload>) {
    pointer.deinitialize(count: 1)
    pointer.deallocate()
    // Releasing: pairs with the acquiring load in `retiredCount`.
    retired.subtract(1, ordering: .releasing)
  }

  private static func box(_ payload: consuming Payload) -> UnsafeMutablePointer<Payload> {
    let pointer = UnsafeMutablePointer<Payload>.allocate(capacity: 1)
    pointer.initialize(to: payload)
    return pointer
  }
}

/// A snapshot that was replaced by a newer one and that readers may still be using.
///
/// It is noncopyable so that it is reclaimed exactly once: either after waiting for a grace
/// period right away, or later from the flavor's reclaimer.
public struct RetiredSnapshot<Flavor: RCUFlavor, Payload: ~Copyable>: ~Copyable, Sendable {
  // Sendable: the snapshot is immutable, and ownership moves with this noncopyable value.
  private nonisolated(unsafe) let pointer: UnsafeMutablePointer<Payload>
  private let owner: RCUPublished<Flavor, Payload>

  init(pointer: UnsafeMutablePointer<Payload>, owner: RCUPublished<Flavor, Payload>) {
    self.pointer = pointer
    self.owner = owner
  }

  /// Waits for a grace period, then destroys the snapshot. Must not be called inside a
  /// read-side section.
  public consuming func reclaimAfterSynchronize() {
    Flavor.synchronize()
    reclaimNow()
  }

  /// Destroys the snapshot. The caller states that a full grace period has already elapsed
  /// since it was published over (for example: it called ``RCUFlavor/synchronize()``).
  public consuming func reclaimNow() {
    owner.destroy(pointer)
  }

  /// Destroys the snapshot after a grace period without blocking, then runs `then` on the
  /// thread that runs the flavor's deferred work (see ``RCUFlavor/deferUntilGracePeriod(_:)``).
  /// Objects `then` captures are kept alive until that point, which is how a writer defers
  /// releasing devices that readers may still be calling.
  public consuming func reclaimDeferred(then: (@Sendable () -> Void)? = nil) {
    let snapshot = self
    Flavor.deferUntilGracePeriod {
      snapshot.reclaimNowFromCallback()
      then?()
    }
  }

  private func reclaimNowFromCallback() {
    owner.destroy(pointer)
  }
}
