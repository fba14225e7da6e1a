import RCU
import RCUFaultFlavors

/// A check that exercises a flavor directly (torture, litmus): its run is generic over the
/// flavor, and a flavor-level fault wraps that flavor in ``FaultyRCU`` for the run.
protocol RCUCheck {
  /// The check's settings.
  associatedtype Configuration: RCUCheckConfiguration
  /// What one run returns.
  associatedtype Report

  /// Runs the check on `flavor`, with any flavor-level fault already installed.
  static func run<Flavor: RCUFlavor>(_ configuration: Configuration, on flavor: Flavor.Type)
    throws -> Report
}

/// The settings every ``RCUCheck`` reads to pick its flavor and its fault.
protocol RCUCheckConfiguration {
  /// The flavor to run on.
  var flavor: FlavorChoice { get }
  /// The flavor-level fault to install, if the configured fault is one.
  var rcuFault: RCUFault? { get }
  /// Checks every option before anything starts.
  func validate() throws(OptionError)
}

extension RCUCheck {
  /// Validates `configuration`, then runs the check on its flavor, wrapped in ``FaultyRCU``
  /// with the fault installed when the fault is a flavor-level one.
  static func validatedRun(_ configuration: Configuration) throws -> Report {
    try configuration.validate()
    return try configuration.flavor.run(FaultWrappedWork<Self>(configuration: configuration))
  }
}

/// An ``RCUCheck``'s run, generic over the flavor ``FlavorChoice`` picks.
private struct FaultWrappedWork<Check: RCUCheck>: FlavorGenericWork {
  let configuration: Check.Configuration

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> Check.Report {
    guard let fault = configuration.rcuFault else {
      return try Check.run(configuration, on: Flavor.self)
    }
    return try RCUFaultInjection.with(fault) {
      try Check.run(configuration, on: FaultyRCU<Flavor>.self)
    }
  }
}
