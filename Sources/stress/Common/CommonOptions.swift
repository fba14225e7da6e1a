import ArgumentParser
import StressKit

extension FlavorChoice: ExpressibleByArgument {}
extension ChurnFault: ExpressibleByArgument {}

/// Options every checking subcommand shares.
struct CommonOptions: ParsableArguments {
  @Option(help: "How long to run, in seconds.")
  var duration: Double = 10

  @Option(
    help:
      "The grace-period backend: \(FlavorChoice.allCases.map(\.rawValue).joined(separator: "|")).")
  var flavor: FlavorChoice = .memb

  @Option(help: "Seed for every random choice, so a failing run can be repeated.")
  var seed: UInt64 = 1

  @Option(help: "Also write the report as JSON to this path.")
  var json: String?

  mutating func validate() throws {
    guard duration > 0, duration.isFinite else {
      throw ValidationError("--duration must be a positive number of seconds")
    }
  }
}
