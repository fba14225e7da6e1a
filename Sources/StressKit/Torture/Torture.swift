import RCU
import RCUFaultFlavors

/// The torture command's entry point, shared by `stress torture`, `stress faults` and the
/// tests.
public enum Torture {
  /// Runs one torture on the configured flavor, wrapped in ``FaultyRCU`` when the fault is
  /// a flavor-level one.
  public static func run(_ configuration: TortureConfiguration) throws -> TortureReport {
    try configuration.validate()
    return try configuration.flavor.run(TortureWork(configuration: configuration))
  }
}

/// A torture run, generic over the flavor ``FlavorChoice`` picks.
private struct TortureWork: FlavorGenericWork {
  let configuration: TortureConfiguration

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> TortureReport {
    guard let fault = configuration.rcuFault else {
      return try TortureRun<Flavor>(configuration).run()
    }
    return try RCUFaultInjection.with(fault) {
      try TortureRun<FaultyRCU<Flavor>>(configuration).run()
    }
  }
}
