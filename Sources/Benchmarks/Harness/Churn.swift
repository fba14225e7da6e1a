/// How the registry changes while readers run.
public enum Churn: String, CaseIterable, Codable, Sendable {
  /// Nothing changes.
  case none
  /// One update (a register or an unregister) every millisecond.
  case rate1000 = "1000/s"
  /// A writer registering and unregistering as fast as it can.
  case flatOut = "flat-out"
}
