import RCU
import RCUFaultFlavors

/// The grace-period backend a run uses: a flavor this package ships, from the registry
/// (``RCUFlavorName``), or the checker's broken flavor.
public enum FlavorChoice: Hashable, Sendable {
  /// A flavor of the registry. `loaded` runs on the RCU library loaded from a shared object
  /// (`--rcu-library PATH`, see `LoadedRCU`), which must be loaded before the run.
  case shipped(RCUFlavorName)
  /// A flavor whose grace periods do not wait: every check must catch it.
  case broken
  /// A variant of the toy RCU (`RCUFaultFlavors`): correct, or with one barrier taken out
  /// (the litmus catalogue's ordering faults).
  case toy(ToyRCUName)
}

extension FlavorChoice: RawRepresentable, CaseIterable, Codable, NamedCases {
  /// Every flavor of the registry, then ``broken``, then the toy RCU's variants.
  public static var allCases: [FlavorChoice] {
    RCUFlavorName.allCases.map(FlavorChoice.shipped) + [.broken]
      + ToyRCUName.allCases.map(FlavorChoice.toy)
  }

  /// The name on the command line and in reports: the registry's, `broken`, or the toy
  /// variant's (`toy-mb`).
  public var rawValue: String {
    switch self {
    case .shipped(let name): name.rawValue
    case .broken: "broken"
    case .toy(let name): name.rawValue
    }
  }
}

extension FlavorChoice {
  /// Runs `work` with the flavor this choice names. Refuses `loaded` before a library is
  /// loaded (`LoadedRCU` would abort), so the run fails with a message instead.
  public func run<Work: FlavorGenericWork>(_ work: Work) throws -> Work.Output {
    switch self {
    case .shipped(.loaded) where LoadedRCU.path == nil:
      throw SetupFailure(message: "--flavor loaded needs --rcu-library PATH")
    case .shipped(let name):
      return try name.run(work)
    case .broken:
      return try work.run(BrokenRCU.self)
    case .toy(let name) where !name.isAvailable:
      throw SetupFailure(
        message: "--flavor \(name.rawValue) needs sys_membarrier, unavailable here")
    case .toy(let name):
      return try name.run(work)
    }
  }

  /// Loads the RCU library at `path` for `loaded`, turning a failure into a setup
  /// failure that names the file and what is wrong with it.
  public static func loadLibrary(_ path: String) throws(SetupFailure) {
    do {
      try LoadedRCU.load(path: path)
    } catch {
      throw SetupFailure(message: "--rcu-library: \(error)")
    }
  }
}

extension FlavorChoice {
  /// `--flavor NAME`, and for `loaded` the library it loaded (`--rcu-library PATH`): what
  /// a replayed command line needs to run on the same flavor.
  public var replayArguments: [String] {
    ["--flavor", rawValue]
      + (self == .shipped(.loaded) ? ["--rcu-library", LoadedRCU.path ?? "PATH"] : [])
  }
}
