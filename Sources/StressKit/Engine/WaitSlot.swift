import HostSupport
import Synchronization

/// One watched thread's current wait: what and since when (0: not waiting).
final class WaitSlot: Sendable {
  let thread: String
  private let operation = Atomic<Int>(0)
  private let since = Atomic<UInt64>(0)
  /// The `since` of the wait last reported, so that each wait is reported once.
  private let reported = Atomic<UInt64>(0)
  /// The longest wait of each operation (by raw value; written by the slot's thread alone).
  private let longestSynchronize = Atomic<UInt64>(0)
  private let longestBarrier = Atomic<UInt64>(0)
  private let longestRemoval = Atomic<UInt64>(0)
  private let longestCallback = Atomic<UInt64>(0)
  private let last = Atomic<UInt64>(0)
  /// The kernel's id of the thread in its latest wait (``KernelWait``).
  private let threadID = Atomic<Int32>(0)
  /// The last time the watchdog saw the current wait inside a KVM ioctl (its kernel part),
  /// written by the watchdog alone; a wait's stall clock starts again from there.
  private let kernelPartSeen = Atomic<UInt64>(0)

  init(thread: String) { self.thread = thread }

  /// The longest wait of each operation so far.
  var longestWaits: [WaitedOperation: UInt64] {
    var waits: [WaitedOperation: UInt64] = [:]
    for operation in WaitedOperation.allCases {
      let waited = longest(operation)
      if waited > 0 { waits[operation] = waited }
    }
    return waits
  }

  /// How long the thread's latest wait took, in nanoseconds (read by the thread itself).
  var lastWaitNanoseconds: UInt64 { last.load(ordering: .relaxed) }

  private func longest(_ operation: WaitedOperation) -> UInt64 {
    switch operation {
    case .synchronize: longestSynchronize.load(ordering: .relaxed)
    case .barrier: longestBarrier.load(ordering: .relaxed)
    case .synchronousRemoval: longestRemoval.load(ordering: .relaxed)
    case .deferredCallback: longestCallback.load(ordering: .relaxed)
    }
  }

  /// Raises the longest wait of `operation` to `elapsed`. Only the slot's thread writes:
  /// a load and a store, no read-modify-write.
  private func raise(_ operation: WaitedOperation, to elapsed: UInt64) {
    guard elapsed > longest(operation) else { return }
    switch operation {
    case .synchronize: longestSynchronize.store(elapsed, ordering: .relaxed)
    case .barrier: longestBarrier.store(elapsed, ordering: .relaxed)
    case .synchronousRemoval: longestRemoval.store(elapsed, ordering: .relaxed)
    case .deferredCallback: longestCallback.store(elapsed, ordering: .relaxed)
    }
  }

  /// Runs `body`, a wait for `waited`, under the watchdog's eye.
  @discardableResult
  func waiting<Result>(for waited: WaitedOperation, _ body: () throws -> Result) rethrows
    -> Result
  {
    let start = monotonicNanoseconds()
    threadID.store(HostThread.currentKernelID, ordering: .relaxed)
    since.store(start, ordering: .relaxed)
    // Releasing: pairs with the watchdog's acquiring load in `stalledSince`, which then sees
    // this wait's start.
    operation.store(waited.rawValue, ordering: .releasing)
    defer {
      operation.store(0, ordering: .relaxed)
      let elapsed = monotonicNanoseconds() - start
      last.store(elapsed, ordering: .relaxed)
      raise(waited, to: elapsed)
    }
    return try body()
  }

  /// A wait the thread has been in for `timeout` or longer, not counting its kernel part
  /// (``noteKernelPart(now:)``), and not reported yet: the operation, when it began, and
  /// when its kernel part was last seen (nil if never).
  func stalledSince(now: UInt64, timeout: UInt64) -> (
    operation: WaitedOperation, start: UInt64, kernelPartSeen: UInt64?
  )? {
    // Acquiring: pairs with the releasing store in `waiting`.
    guard let waited = WaitedOperation(rawValue: operation.load(ordering: .acquiring)) else {
      return nil
    }
    let start = since.load(ordering: .relaxed)
    let kernelPart = kernelPartSeen.load(ordering: .relaxed)
    let kernelPartSeen = kernelPart > start ? kernelPart : nil
    let from = kernelPartSeen ?? start
    guard now > from, now - from >= timeout, reported.load(ordering: .relaxed) != start
    else { return nil }
    return (waited, start, kernelPartSeen)
  }

  /// Where the waiting thread is in the kernel now; nil when it is not known.
  var kernelWait: KernelWait? {
    let id = threadID.load(ordering: .relaxed)
    return id == 0 ? nil : KernelWait.of(thread: id)
  }

  /// Whether the current wait's kernel part was seen and the watchdog should look again
  /// at every poll whether it is still in it.
  func inKernelPart(now: UInt64) -> Bool {
    // Acquiring: pairs with the releasing store in `waiting`, which then sees this wait's start.
    guard operation.load(ordering: .acquiring) != 0 else { return false }
    return kernelPartSeen.load(ordering: .relaxed) > since.load(ordering: .relaxed)
  }

  /// Notes that the current wait is inside a KVM ioctl at `now` (by the watchdog alone): its
  /// stall clock starts again from here.
  func noteKernelPart(now: UInt64) { kernelPartSeen.store(now, ordering: .relaxed) }

  /// Marks the wait that began at `start` reported (by the watchdog thread alone).
  func markReported(_ start: UInt64) { reported.store(start, ordering: .relaxed) }
}
