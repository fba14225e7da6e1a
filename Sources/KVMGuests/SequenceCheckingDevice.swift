public import ConcurrentBus
import Synchronization

/// A range device that feeds every write to a ``SequenceCheck`` and answers reads with the
/// value last written to it, so a guest read shows which writes had been applied.
///
/// Sendable: the check is Sendable and the last value is atomic.
public final class SequenceCheckingDevice: IODevice {
  /// Where the writes go.
  public let check: SequenceCheck
  private let last = Atomic<UInt64>(0)
  private let writes = Atomic<Int>(0)

  /// A device feeding `check`.
  public init(check: SequenceCheck) { self.check = check }

  /// Writes this device received.
  public var writeCount: Int { writes.load(ordering: .relaxed) }

  /// The value last written (0 before any).
  public var lastWritten: UInt64 { last.load(ordering: .relaxed) }

  /// The value last written.
  public func read(offset: UInt64, size: Int) -> UInt64? { last.load(ordering: .relaxed) }

  /// Records the write in the check; always claims it.
  public func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    check.record(value, size: size)
    last.store(value, ordering: .relaxed)
    writes.add(1, ordering: .relaxed)
    return true
  }
}
