import Foundation
import HostSupport

/// The result of `stress litmus`, printed on stdout and written with `--json`.
public struct LitmusReport: CheckReport, Codable {
  /// The command that ran.
  public let command: String
  let configuration: LitmusConfiguration
  /// The flavor's own name (a loaded library's `concurrentbus_rcu_name`).
  let flavorName: String
  let elapsedSeconds: Double
  /// The CPUs the reader and the writer were pinned to, or nil when they were not (fewer
  /// than two CPUs allowed).
  let readerCPU: Int32?
  let writerCPU: Int32?
  /// One row per test.
  let tests: [LitmusTestReport]
  /// How many times the injected fault fired.
  let faultFirings: UInt64
  let stall: StallSummary
  /// False when a stall left threads behind and the final barrier was skipped.
  let finalBarrierRan: Bool
  let peakRSSBytes: UInt64
  /// What the run concluded.
  public let verdict: Verdict
  /// Iterations of each test, and iterations in each order, against the minimum.
  public let work: [WorkMeasure]
  /// What broke, by kind.
  public let violations: [ViolationSummary]
  /// Where the tool ran short, by kind.
  public let shortfalls: [Shortfall]

  /// The human-readable report.
  public var text: String {
    let c = configuration
    var fault = c.fault.rawValue
    if c.fault != .none { fault += " every \(c.faultEvery) (fired \(faultFirings) times)" }
    var lines = [
      "stress litmus: flavor "
        + (flavorName == c.flavor.rawValue ? flavorName : "\(c.flavor.rawValue) (\(flavorName))")
        + ", fault \(fault), seed \(c.seed), "
        + (readerCPU.map { "reader on CPU \($0), writer on CPU \(writerCPU!)" }
          ?? "threads not pinned"),
      String(format: "  ran %.2f s in slices of %g s; ", elapsedSeconds, c.sliceSeconds)
        + "each test's forbidden outcome must never be seen",
    ]
    for test in tests { lines += test.lines }
    if !finalBarrierRan {
      lines.append("  final barrier skipped: threads stalled and were abandoned")
    }
    lines.append(stall.text)
    lines.append(String(format: "  peak RSS: %.1f MiB", Double(peakRSSBytes) / 1_048_576))
    if let first = violations.compactMap(\.firstSeenSeconds).min() {
      lines.append(String(format: "  first violation after %.3f s", first))
    }
    lines += outcome.lines
    return lines.joined(separator: "\n")
  }
}

/// One test's row: what it counted and what it forbids.
public struct LitmusTestReport: Codable, Sendable {
  public let test: LitmusTestName
  /// The forbidden outcome, in words.
  public let forbidden: String
  public let iterations: UInt64
  /// Iterations per second of the time the test had.
  public let iterationsPerSecond: Double
  /// Each outcome's count, by name; the forbidden one last.
  public let outcomes: [String: UInt64]
  public let forbiddenCount: UInt64
  /// Iterations in which the reader's load came first, and in which the writer's did.
  public let readerFirst: UInt64
  public let writerFirst: UInt64

  var lines: [String] {
    let names = test.outcomes
    return [
      "  \(test.rawValue): "
        + String(
          format: "%llu iterations (%.2fM/s); reader first %llu, writer first %llu", iterations,
          iterationsPerSecond / 1e6, readerFirst, writerFirst),
      "    outcomes: "
        + names.map { "\($0): \(outcomes[$0] ?? 0)" }.joined(separator: ", ")
        + "; forbidden: \(names.last!) (\(forbidden))",
    ]
  }
}

extension LitmusRun {
  func report(elapsed: Double, stall: StallSummary, finalBarrierRan: Bool) -> LitmusReport {
    let minimum = configuration.minimum
    let tests = tallies.map { tally in
      LitmusTestReport(
        test: tally.test, forbidden: tally.test.forbidden, iterations: tally.iterations,
        iterationsPerSecond: Double(tally.iterations) / max(tally.seconds, 1e-9),
        outcomes: Dictionary(uniqueKeysWithValues: zip(tally.test.outcomes, tally.outcomes)),
        forbiddenCount: tally.forbidden, readerFirst: tally.readerFirstCount,
        writerFirst: tally.writerFirstCount)
    }
    let work = tests.flatMap { test in
      [
        WorkMeasure(
          "\(test.test.rawValue) iterations", done: test.iterations, required: minimum.iterations),
        WorkMeasure(
          "\(test.test.rawValue) iterations in each order",
          done: min(test.readerFirst, test.writerFirst), required: minimum.eachOrder),
      ]
    }
    let violations = self.violations.summary
    let shortfalls = self.shortfalls.summary
    let firings = configuration.fault.firings(
      writerFirings: writerFaults.load(ordering: .relaxed))
    return LitmusReport(
      command: "litmus", configuration: configuration, flavorName: Flavor.name,
      elapsedSeconds: elapsed, readerCPU: cpus?.reader, writerCPU: cpus?.writer, tests: tests,
      faultFirings: firings, stall: stall, finalBarrierRan: finalBarrierRan,
      peakRSSBytes: peakResidentBytes(),
      verdict: Verdict(work: work, violations: violations, shortfalls: shortfalls), work: work,
      violations: violations, shortfalls: shortfalls)
  }
}
