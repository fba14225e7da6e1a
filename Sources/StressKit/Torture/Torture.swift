import RCU

/// The torture command's entry point, shared by `stress torture`, `stress faults` and the
/// tests.
public enum Torture: RCUCheck {
  /// Runs one torture on the configured flavor, wrapped in ``FaultyRCU`` when the fault is
  /// a flavor-level one.
  public static func run(_ configuration: TortureConfiguration) throws -> TortureReport {
    try validatedRun(configuration)
  }

  /// One run on `flavor`, with any flavor-level fault already installed.
  static func run<Flavor: RCUFlavor>(_ configuration: TortureConfiguration, on flavor: Flavor.Type)
    throws -> TortureReport
  {
    try TortureRun<Flavor>(configuration).run()
  }
}

extension TortureConfiguration: RCUCheckConfiguration {}
