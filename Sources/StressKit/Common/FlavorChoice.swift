import RCU
import RCUFaultFlavors

/// The grace-period backend a run uses.
public enum FlavorChoice: String, CaseIterable, Codable, Sendable {
  /// liburcu's memb flavor (the default).
  case memb
  /// liburcu's bulletproof flavor.
  case bp
  /// liburcu's quiescent-state-based flavor: readers announce quiescent states.
  case qsbr
  /// liburcu's mb flavor: full memory barriers on the read side.
  case mb
  /// liburcu's signal flavor: grace periods signal every reader (takes `SIGUSR1`).
  case signal
  /// An RCU implementation loaded from a shared object (`--rcu-library PATH`, see
  /// `LoadedRCU`); the library must be loaded before the run.
  case loaded
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
    case .qsbr: try work.run(QSBRRCU.self)
    case .mb: try work.run(MemoryBarrierRCU.self)
    case .signal: try work.run(SignalRCU.self)
    case .loaded: try work.run(try LoadedRCU.loadedOrRefused())
    case .broken: try work.run(BrokenRCU.self)
    }
  }

  /// Loads the RCU library at `path` for ``loaded``, turning a failure into a setup
  /// failure that names the file and what is wrong with it.
  public static func loadLibrary(_ path: String) throws(SetupFailure) {
    do {
      try LoadedRCU.load(path: path)
    } catch {
      throw SetupFailure(message: "--rcu-library: \(error)")
    }
  }
}

extension LoadedRCU {
  /// The flavor, if a library is loaded; `LoadedRCU` aborts when used before one is, so a
  /// run is refused instead.
  fileprivate static func loadedOrRefused() throws(SetupFailure) -> LoadedRCU.Type {
    guard path != nil else {
      throw SetupFailure(message: "--flavor loaded needs --rcu-library PATH")
    }
    return self
  }
}
