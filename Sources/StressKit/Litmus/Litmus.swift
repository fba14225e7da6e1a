import RCU

/// The litmus command's entry point, shared by `stress litmus`, `stress faults` and the
/// tests.
public enum Litmus: RCUCheck {
  /// Runs the configured litmus tests on the configured flavor, wrapped in ``FaultyRCU``
  /// when the fault is a flavor-level one.
  public static func run(_ configuration: LitmusConfiguration) throws -> LitmusReport {
    try validatedRun(configuration)
  }

  /// One run on `flavor`, with any flavor-level fault already installed.
  static func run<Flavor: RCUFlavor>(_ configuration: LitmusConfiguration, on flavor: Flavor.Type)
    throws -> LitmusReport
  {
    try LitmusRun<Flavor>(configuration).run()
  }
}

extension LitmusConfiguration: RCUCheckConfiguration {}
