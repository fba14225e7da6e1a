import Synchronization

/// The deferred works ``FaultyRCU``'s lost callback dropped: never run, but kept, so that what
/// they would have freed stays reachable (a leak checker then reports nothing the fault did
/// on purpose, and nothing it did not).
enum LostWorks {
  private static let kept = Mutex<[@Sendable () -> Void]>([])

  /// Keeps `work` for the life of the process without running it.
  static func keep(_ work: @escaping @Sendable () -> Void) {
    kept.withLock { $0.append(work) }
  }
}
