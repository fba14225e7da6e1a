import ArgumentParser
import Benchmarks

/// `CountProbe run WORK OPERATIONS`: sets up one workload and runs it, the program valgrind
/// counts. It prints nothing; it fails when a dispatch went unclaimed.
struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Runs OPERATIONS operations of one workload (under valgrind).")

  @Argument(help: "The workload: DESIGN/ENTRIES, eventfd, ring or exit/FLAVOR.")
  var work: CountedWork

  @Argument(help: "How many operations (a multiple of 64).")
  var operations: Int

  @Option(help: "Adds this many opaque additions to every dispatch (the gates' self-test).")
  var inject = 0

  func validate() throws {
    guard operations > 0, operations % 64 == 0 else {
      throw ValidationError("OPERATIONS must be a positive multiple of 64, not \(operations)")
    }
    guard (0...1000).contains(inject) else {
      throw ValidationError("--inject takes 0...1000 steps, not \(inject)")
    }
  }

  func run() throws {
    let unclaimed = try work.run(operations: operations, injectedSteps: inject)
    guard unclaimed == 0 else {
      throw ValidationError("\(unclaimed) of \(operations) operations went unclaimed")
    }
  }
}
