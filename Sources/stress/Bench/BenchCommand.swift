import ArgumentParser
import Benchmarks
import Foundation
import StressKit

extension BenchFlavor: ExpressibleByArgument {}
extension Design: ExpressibleByArgument {}

/// `stress bench`: the bus against other synchronization designs on the same table, plus
/// write-side and eventfd costs, with the issue's targets judged on the run. The sections
/// are the `Benchmarks` library's (``BenchSections``); this is their command line.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measures dispatch and registration costs against lock-based designs.")

  @Flag(help: "A shorter run (under 60 s): fewer rounds, shorter timed runs.")
  var quick = false

  @Option(help: "Also write every raw number as JSON to this path.")
  var json: String?

  @Option(help: "Seconds per timed read-side run (default 0.2, or 0.04 with --quick).")
  var seconds: Double?

  @Option(help: "Rounds per configuration (default 5, or 3 with --quick).")
  var rounds: Int?

  @Option(
    help: """
      Most rounds a section's targets may take while a target's interval straddles its limit       (default 40; with --quick, --rounds).
      """)
  var maxRounds: Int?

  @Option(help: "Seconds a section's target rounds may take in all (default 60).")
  var resolveSeconds: Double?

  @Option(
    name: .customLong("size"),
    help: "Only these table sizes (repeatable; default 16, 64, 1024, 10000).")
  var sizes: [Int] = []

  @Option(
    name: .customLong("design"),
    help: "Only these read-side designs (repeatable): floor, memb, qsbr, rwlock, mutex, swapped.")
  var designs: [Design] = []

  @Option(
    name: .customLong("threads"),
    help: "Only these reader thread counts (repeatable; default 1, 2, 2 x cores).")
  var threadCounts: [Int] = []

  @Flag(help: "Only the read-side tables (for profiling the read side); same as --only read.")
  var readOnly = false

  @Option(
    name: .customLong("flavor"),
    help: "Only these flavors in the per-flavor rows (repeatable): memb, bp, qsbr, mb, signal.")
  var flavors: [BenchFlavor] = []

  @Option(
    name: .customLong("only"),
    help: """
      Only these sections (repeatable): \(BenchSections.options.joined(separator: ", ")) \
      (write: write side, eventfd, rings). Default: all.
      """)
  var sections: [String] = []

  @Option(
    help: ArgumentHelp(
      "Internal: one churn run of this flavor between markers, for the strace count.",
      visibility: .hidden))
  var membarrierProbe: BenchFlavor?

  func validate() throws {
    try validated { () throws(OptionError) in
      for size in sizes { try RunLimits.check("--size", size, in: 1...100_000) }
      for threads in threadCounts { try RunLimits.checkThreads("--threads", threads) }
      if let rounds { try RunLimits.check("--rounds", rounds, in: 1...100) }
      if let maxRounds { try RunLimits.check("--max-rounds", maxRounds, in: 1...1000) }
      if let resolveSeconds, !(resolveSeconds >= 0 && resolveSeconds <= 3600) {
        throw OptionError("--resolve-seconds must be 0...3600, not \(resolveSeconds)")
      }
      if let seconds, !(seconds > 0 && seconds <= 60) {
        throw OptionError(
          "--seconds must be a positive number of seconds, at most 60, not \(seconds)")
      }
      for section in sections where !BenchSections.options.contains(section) {
        throw OptionError(
          "--only takes \(BenchSections.options.joined(separator: ", ")), not \(section)")
      }
      if readOnly && !sections.isEmpty {
        throw OptionError("--read-only and --only cannot be combined (--read-only is --only read)")
      }
      if membarrierProbe != nil && (readOnly || !sections.isEmpty || json != nil) {
        throw OptionError("--membarrier-probe runs alone (it is what strace runs)")
      }
    }
    if let json {
      do { _ = try JSONDestination(validating: json) } catch {
        throw ValidationError(error.message)
      }
    }
  }

  func run() throws {
    if let membarrierProbe {
      return try MembarrierProbe.runChild(flavor: membarrierProbe, seconds: seconds ?? 1)
    }
    let run = BenchRun(
      settings: BenchSettings(
        quick: quick, seconds: seconds, rounds: rounds, maximumRounds: maxRounds,
        resolveSeconds: resolveSeconds, sizes: sizes, designs: designs,
        threadCounts: threadCounts, flavors: flavors,
        progress: { FileHandle.standardError.write(Data("  \($0)\n".utf8)) }))
    print(run.headline)
    let report = try run.measure(BenchSections.selected(by: readOnly ? ["read"] : sections))
    if readOnly {
      print(report.sections.map(\.text).joined())
      return
    }
    print(report.text)
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let url = URL(fileURLWithPath: json)
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try encoder.encode(report).write(to: url)
      print("JSON written to \(json)")
    }
  }
}
