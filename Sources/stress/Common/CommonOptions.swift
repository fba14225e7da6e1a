import ArgumentParser
import StressKit

extension FlavorChoice: ExpressibleByArgument {}
extension ChurnFault: ExpressibleByArgument {}

/// Options every checking subcommand shares.
///
/// Numeric options parse their value unconditionally, so `--duration -1` reaches
/// validation (and gets a message saying what is wrong) instead of being read as a flag.
struct CommonOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "How long to run, in seconds.")
  var duration: Double = 10

  @Option(
    help:
      "The grace-period backend: \(FlavorChoice.allCases.map(\.rawValue).joined(separator: "|")).")
  var flavor: FlavorChoice = .shipped(.memb)

  @Option(
    parsing: .unconditional, help: "Seed for every random choice, so a failing run can be repeated."
  )
  var seed: UInt64 = 1

  @Option(
    help: """
      Run on an RCU implementation loaded from this shared object (the C ABI in \
      Sources/CRCULibraryABI/include/concurrentbus_rcu.h); implies --flavor loaded.
      """)
  var rcuLibrary: String?

  @Option(help: "Also write the report as JSON to this path (checked before the run).")
  var json: String?

  @Option(
    parsing: .unconditional,
    help: """
      Go on past --duration, up to S more seconds, until every minimum of work is reached \
      (0: end at --duration whatever was done). The run's bound grows by S.
      """)
  var minimumWorkWithin: Double = 0

  mutating func validate() throws {
    if let rcuLibrary {
      guard flavor == .shipped(.memb) || flavor == .shipped(.loaded) else {
        throw ValidationError("--rcu-library runs on the loaded library: drop --flavor")
      }
      flavor = .shipped(.loaded)
      do {
        try FlavorChoice.loadLibrary(rcuLibrary)
      } catch {
        throw ValidationError(error.message)
      }
    } else if flavor == .shipped(.loaded) {
      throw ValidationError("--flavor loaded needs --rcu-library PATH")
    }
    try validated { () throws(OptionError) in try RunLimits.checkDuration(duration) }
    _ = try jsonDestination()
  }

  /// Where `--json` goes, if given; checked before anything runs.
  func jsonDestination() throws -> JSONDestination? {
    guard let json else { return nil }
    do {
      return try JSONDestination(validating: json)
    } catch {
      throw ValidationError(error.message)
    }
  }
}

/// Runs a StressKit check of options, turning its error into ArgumentParser's, which
/// prints the message and the usage and exits with status 2.
func validated(_ check: () throws(OptionError) -> Void) throws {
  do {
    try check()
  } catch {
    throw ValidationError(error.message)
  }
}
