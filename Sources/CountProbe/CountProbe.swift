import ArgumentParser
import Benchmarks

/// The counting probe of `Scripts/count.sh`: `run` is what valgrind runs (one workload, a
/// given number of operations), `measure` runs a stripped copy of this binary under
/// valgrind for every workload and judges the counted gates.
@main
struct CountProbe: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "CountProbe",
    abstract: "Counts instructions, branches and simulated cache misses per bus operation.",
    subcommands: [RunCommand.self, MeasureCommand.self])
}

extension CountedWork: ExpressibleByArgument {}
