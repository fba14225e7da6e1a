/// When the unregisters of the reclamation section come.
public enum ReleasePace: String, CaseIterable, Codable, Sendable {
  /// 50 in a row, each waited for before the next (the case: a VMM tearing down
  /// devices one by one); every device registered before the first.
  case inARow = "in-a-row"
  /// Each after ``idleMicroseconds`` of nothing (every reclaimer thread asleep again), as a
  /// hot-unplug on a quiet VMM; its device registered just before the pause.
  case cold

  /// The idle time before each cold unregister.
  static let idleMicroseconds: UInt32 = 200
}
