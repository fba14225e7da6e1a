import CToyRCU
import RCU

/// A minimal RCU of this package's own whose barriers are switches (`Sources/CToyRCU`):
/// the test-support flavors the litmus fault catalogue runs, each faulty variant being a
/// correct one with one barrier taken out. A conformer only says which barriers it keeps;
/// everything else is written here once.
///
/// Readers register on their first section and are unregistered when their thread exits.
/// Deferred work goes to a ``ToyReclaimer`` that waits with the variant's own grace period.
/// Never use it for anything but checking the checkers.
public protocol ToyRCUFlavor: RCUFlavor {
  /// A full fence after the reader's slot store on entry (the mb variants).
  static var entryFence: Bool { get }
  /// A full fence before the reader's clearing store on exit (the mb variants).
  static var exitFence: Bool { get }
  /// Whether the grace period's barriers are `sys_membarrier` (memb) or writer-local fences.
  static var membarrierGracePeriods: Bool { get }
  /// The variant's deferred-work thread, made on first use.
  static var reclaimer: ToyReclaimer { get }
}

extension ToyRCUFlavor {
  /// Registers the calling thread ahead of its first section (optional).
  public static func registerCurrentThread() { _ = toyrcu_register_thread() }

  /// Unregisters the calling thread; aborts inside a section.
  public static func unregisterCurrentThread() { toyrcu_unregister_thread() }

  /// Enters a section: the slot store, then the entry fence if the variant keeps it.
  @inlinable @inline(__always)
  public static func readLock() { toyrcu_read_lock(entryFence) }

  /// Leaves a section: the exit fence if the variant keeps it, then the clearing store.
  @inlinable @inline(__always)
  public static func readUnlock() { toyrcu_read_unlock(exitFence) }

  /// Whether the calling thread is inside a section.
  public static var isInReadSection: Bool { toyrcu_read_ongoing() }

  /// One grace period with the variant's barriers; aborts inside a section.
  public static func synchronize() { toyrcu_synchronize(membarrierGracePeriods) }

  /// Queues `work` on the variant's reclaimer; returns at once.
  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    reclaimer.enqueue(work)
  }

  /// Waits until every work deferred before the call has run; aborts inside a section.
  public static func barrier() {
    if isInReadSection { fatalError("\(name): barrier() inside a read-side section") }
    reclaimer.barrier()
  }
}
