/// What a bus has handed over to be freed after a grace period and that is still waiting:
/// the tables it retired and the devices it removed (``IOBus/reclamationBacklog``).
///
/// Each publish retires the table readers saw before it; a batch that removes devices keeps
/// them until the grace period after it has passed. A healthy bus's backlog stays small and
/// comes back to zero after ``/RCU/RCUFlavor/barrier()`` once every update has returned. A
/// backlog that keeps growing means grace periods are not ending (a reader that never
/// leaves its read-side section, a QSBR thread that never announces a quiescent state) or
/// that the reclaimer cannot keep up; ``oldestOvertakenBy`` tells the two apart from a
/// reclamation that is lost.
public struct ReclamationBacklog: Hashable, Sendable, CustomStringConvertible {
  /// Retired tables not yet freed.
  public var retiredTables: Int
  /// Removed devices the bus still holds until the grace period after their removal.
  public var releasedDevices: Int
  /// The bytes waiting: the retired tables' memory plus the bus's own handle of each
  /// removed or moved device. A device's own memory is not counted (the bus cannot know it).
  public var bytes: Int
  /// How long the oldest waiting reclamation has waited; zero when nothing waits.
  public var oldestAge: Duration
  /// How many reclamations handed over after the oldest waiting one have already finished.
  /// Grace periods end in order, so this stays near zero (a reclaimer thread delayed in the
  /// middle of its work lets a few later ones pass) unless the oldest was lost.
  public var oldestOvertakenBy: Int

  /// A backlog with these figures.
  public init(
    retiredTables: Int, releasedDevices: Int, bytes: Int, oldestAge: Duration,
    oldestOvertakenBy: Int
  ) {
    self.retiredTables = retiredTables
    self.releasedDevices = releasedDevices
    self.bytes = bytes
    self.oldestAge = oldestAge
    self.oldestOvertakenBy = oldestOvertakenBy
  }

  /// Whether nothing waits.
  public var isEmpty: Bool { retiredTables == 0 && releasedDevices == 0 && bytes == 0 }

  /// `3 tables, 1 device, 4264 bytes, oldest 1250 us (overtaken by 0)`.
  public var description: String {
    let (seconds, attoseconds) = oldestAge.components
    let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    return "\(retiredTables) table\(retiredTables == 1 ? "" : "s"), "
      + "\(releasedDevices) device\(releasedDevices == 1 ? "" : "s"), \(bytes) bytes, "
      + "oldest \(micros) us (overtaken by \(oldestOvertakenBy))"
  }
}
