import ArgumentParser
import Benchmarks
import Foundation

/// `CountProbe measure`: counts every workload under valgrind (on a stripped copy of this
/// probe), prints the table and the gates, and fails when a gate is missed.
struct MeasureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "measure",
    abstract: "Counts each workload under valgrind and judges the counted gates.")

  @Option(help: "The stripped copy of this probe that valgrind runs.")
  var probe: String

  @Flag(help: "Only CI's set (every design at 64 and 10000 entries, and a few more).")
  var ci = false

  @Option(name: .customLong("work"), help: "Only these workloads (repeatable).")
  var works: [CountedWork] = []

  @Option(help: "The committed baseline to hold instructions to (within 2%).")
  var baseline: String?

  @Option(help: "Writes the counted report here as a new baseline.")
  var writeBaseline: String?

  @Option(help: "Writes the counted report and the verdicts here as JSON.")
  var json: String?

  @Option(help: "valgrind runs at a time.")
  var jobs = 2

  @Flag(
    help:
      "Also shows that each gate fails on a regression (injected steps, a baseline edited down).")
  var selfTest = false

  func validate() throws {
    guard (1...16).contains(jobs) else { throw ValidationError("--jobs takes 1...16") }
    if selfTest && baseline == nil { throw ValidationError("--self-test needs --baseline") }
  }

  func run() throws {
    let began = Date()
    let callgrind = try Callgrind(probe: probe, jobs: jobs)
    let works =
      !self.works.isEmpty ? self.works : ci ? CountedWork.continuousIntegration : CountedWork.all
    let report = CountedReport(
      rows: zip(works, try callgrind.costs(of: works)).map { CountedReport.Row(work: $0, cost: $1) }
    )
    let committed = try baseline.map { try Self.read(CountedReport.self, from: $0) }
    let verdicts = CountedGates.judge(report, baseline: committed)
    print(report.text)
    print("TARGETS (counted)")
    for verdict in verdicts {
      print("  [\(verdict.outcome.label)] \(verdict.name): \(verdict.figure)")
    }
    if let writeBaseline { try Self.write(report, to: writeBaseline) }
    if let json { try Self.write(CountedRun(report: report, targets: verdicts), to: json) }
    var failed = verdicts.filter { $0.outcome != .met }.map(\.name)
    if selfTest, let committed {
      failed += try GateSelfTest(callgrind: callgrind, report: report, baseline: committed).run()
    }
    print(
      "\ncounted \(works.count) workloads in \(String(format: "%.0f", Date().timeIntervalSince(began))) s"
    )
    if !failed.isEmpty {
      throw ValidationError("failed: " + failed.joined(separator: "; "))
    }
  }

  /// What `--json` writes.
  struct CountedRun: Encodable {
    let report: CountedReport
    let targets: [TargetVerdict]
  }

  static func read<Value: Decodable>(_ type: Value.Type, from path: String) throws -> Value {
    try JSONDecoder().decode(type, from: Data(contentsOf: URL(fileURLWithPath: path)))
  }

  static func write<Value: Encodable>(_ value: Value, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(value).write(to: URL(fileURLWithPath: path))
  }
}
