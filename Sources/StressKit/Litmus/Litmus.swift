import RCU
import RCUFaultFlavors

/// The litmus command's entry point, shared by `stress litmus`, `stress faults` and the
/// tests.
public enum Litmus {
  /// Runs the configured litmus tests on the configured flavor, wrapped in ``FaultyRCU``
  /// when the fault is a flavor-level one.
  public static func run(_ configuration: LitmusConfiguration) throws -> LitmusReport {
    try configuration.validate()
    return try configuration.flavor.run(LitmusWork(configuration: configuration))
  }
}

/// A litmus run, generic over the flavor ``FlavorChoice`` picks.
private struct LitmusWork: FlavorGenericWork {
  let configuration: LitmusConfiguration

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> LitmusReport {
    guard let fault = configuration.rcuFault else {
      return try LitmusRun<Flavor>(configuration).run()
    }
    return try RCUFaultInjection.with(fault) {
      try LitmusRun<FaultyRCU<Flavor>>(configuration).run()
    }
  }
}
