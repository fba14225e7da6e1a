import Synchronization

/// What a ``VirtioQueue``'s operations have done.
public struct QueueStatistics: Sendable, Hashable, Codable {
  /// Rings started.
  public var starts = 0
  /// Rings stopped.
  public var stops = 0
  /// Kick switches (``VirtioQueue/switchKick()`` or ``VirtioQueue/withKickSwitch(_:)``).
  public var kickSwitches = 0
  /// Kicks found on an old eventfd after a switch and passed on to the new one.
  public var renotifiedKicks = 0
  /// Notify-address moves.
  public var moves = 0

  /// All zero.
  public init() {}

  init(starts: Int, stops: Int, kickSwitches: Int, renotifiedKicks: Int, moves: Int) {
    (self.starts, self.stops, self.kickSwitches) = (starts, stops, kickSwitches)
    (self.renotifiedKicks, self.moves) = (renotifiedKicks, moves)
  }
}

/// The live counters behind ``QueueStatistics`` (relaxed: each is only ever summed).
final class QueueCounters: Sendable {
  let starts = Atomic<Int>(0)
  let stops = Atomic<Int>(0)
  let kickSwitches = Atomic<Int>(0)
  let renotifiedKicks = Atomic<Int>(0)
  let moves = Atomic<Int>(0)

  var snapshot: QueueStatistics {
    QueueStatistics(
      starts: starts.load(ordering: .relaxed), stops: stops.load(ordering: .relaxed),
      kickSwitches: kickSwitches.load(ordering: .relaxed),
      renotifiedKicks: renotifiedKicks.load(ordering: .relaxed),
      moves: moves.load(ordering: .relaxed))
  }
}
