import RCU
import RCUTestSupport

/// The grace-period backend a run uses.
public enum FlavorChoice: String, CaseIterable, Codable, Sendable {
  /// liburcu's memb flavor (the default).
  case memb
  /// liburcu's bulletproof flavor.
  case bp
  /// A flavor whose grace periods do not wait: every check must catch it.
  case broken
}

/// Work that is generic over the RCU flavor, run with the flavor a ``FlavorChoice`` names:
/// the one place that turns a command-line choice into a type.
public protocol FlavorGenericWork {
  /// What the work returns.
  associatedtype Output
  /// Runs the work on `flavor`.
  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> Output
}

extension FlavorChoice {
  /// Runs `work` with the flavor this choice names.
  public func run<Work: FlavorGenericWork>(_ work: Work) throws -> Work.Output {
    switch self {
    case .memb: try work.run(MembRCU.self)
    case .bp: try work.run(BulletproofRCU.self)
    case .broken: try work.run(BrokenRCU.self)
    }
  }
}
