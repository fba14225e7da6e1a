/// The grace-period backend a run uses.
public enum FlavorChoice: String, CaseIterable, Codable, Sendable {
  /// liburcu's memb flavor (the default).
  case memb
  /// liburcu's bulletproof flavor.
  case bp
  /// A flavor whose grace periods do not wait: every check must catch it.
  case broken
}

