import Foundation

/// What a checking run concludes; the same three answers, and exit statuses, for every
/// command.
public enum Verdict: String, Codable, Sendable {
  /// Every check held, and the run did enough work for that to mean something.
  case clean
  /// A check failed (whatever else happened).
  case violations
  /// No check failed, but the run did too little to judge, or the tool itself ran short
  /// (descriptors, memory, threads, a checker behind, time): it is not called clean.
  case inconclusive

  /// The verdict of a run that found `violations` after doing `work`, during which the tool
  /// ran short as `shortfalls` says: any violation wins; otherwise clean only when every
  /// minimum was reached and the tool never ran short.
  public init(
    work: [WorkMeasure], violations: [ViolationSummary], shortfalls: [Shortfall] = []
  ) {
    if !violations.isEmpty {
      self = .violations
    } else if work.allSatisfy(\.met) && shortfalls.isEmpty {
      self = .clean
    } else {
      self = .inconclusive
    }
  }

  /// The process exit status that carries it: 0 clean, 1 violations, 2 inconclusive (the
  /// status of bad usage and setup failures too: nothing was judged).
  public var exitStatus: Int32 {
    switch self {
    case .clean: 0
    case .violations: 1
    case .inconclusive: 2
    }
  }
}

/// One amount of work a run must reach before "no violation" may be called clean, and
/// what it reached.
public struct WorkMeasure: Codable, Sendable, Equatable {
  /// What was counted, in words (`"synchronous unregisters"`).
  public let name: String
  /// How much the run did.
  public let done: UInt64
  /// The minimum for a clean verdict.
  public let required: UInt64

  /// `done` of `name` against a minimum of `required`.
  public init(_ name: String, done: UInt64, required: UInt64) {
    self.name = name
    self.done = done
    self.required = required
  }

  /// Whether the minimum was reached.
  public var met: Bool { done >= required }

  /// "synchronous unregisters 1234 (minimum 100)".
  var text: String { "\(name) \(done) (minimum \(required))" }
}

/// The verdict of a run together with what it rests on: the work done, the violations
/// found and where the tool ran short. Every report ends with its ``lines``.
public struct Outcome: Codable, Sendable, Equatable {
  /// The conclusion.
  public let verdict: Verdict
  /// The minimums and what the run reached.
  public let work: [WorkMeasure]
  /// What broke, by kind.
  public let violations: [ViolationSummary]
  /// Where the tool itself ran short, by kind.
  public let shortfalls: [Shortfall]

  /// The outcome of a run that did `work`, found `violations` and ran short as
  /// `shortfalls` says.
  public init(
    work: [WorkMeasure], violations: [ViolationSummary], shortfalls: [Shortfall] = []
  ) {
    self.verdict = Verdict(work: work, violations: violations, shortfalls: shortfalls)
    self.work = work
    self.violations = violations
    self.shortfalls = shortfalls
  }

  /// The verdict in one line, as the first line of a text report: `verdict: clean`,
  /// `verdict: VIOLATIONS FOUND (stale-section, lost-signal)`, `verdict: INCONCLUSIVE
  /// (reasons)`.
  public var headline: String {
    switch verdict {
    case .clean: "verdict: clean"
    case .violations:
      "verdict: VIOLATIONS FOUND (" + violations.map(\.kind.rawValue).joined(separator: ", ")
        + ")"
    case .inconclusive: "verdict: INCONCLUSIVE (" + reasons.joined(separator: "; ") + ")"
    }
  }

  /// Why an inconclusive run is not clean: each minimum it fell short of, then each way
  /// the tool ran short.
  var reasons: [String] {
    let short = work.filter { !$0.met }.map { "\($0.name) \($0.done) < \($0.required)" }
    return (short.isEmpty ? [] : ["too little work: " + short.joined(separator: ", ")])
      + shortfalls.map { "the tool ran short of \($0.text)" }
  }

  /// The closing lines of a report: the work against its minimums, the violations, and
  /// the verdict (`result: clean`, `result: VIOLATIONS FOUND`, `result: INCONCLUSIVE ...`).
  public var lines: [String] {
    var lines: [String] = []
    if !work.isEmpty {
      lines.append("  minimum work: " + work.map(\.text).joined(separator: ", "))
    }
    for shortfall in shortfalls {
      lines.append("  SHORTFALL \(shortfall.kind.rawValue): \(shortfall.count)")
      lines += shortfall.examples.map { "      e.g. \($0)" }
    }
    if violations.isEmpty {
      lines.append("  violations: none")
    } else {
      lines.append("  VIOLATIONS:")
      for summary in violations {
        lines.append(
          "    \(summary.kind.rawValue): \(summary.count)"
            + (summary.firstSeenSeconds.map { String(format: " (first after %.3f s)", $0) } ?? ""))
        lines += summary.examples.map { "      e.g. \($0)" }
      }
    }
    switch verdict {
    case .clean:
      lines.append("result: clean")
    case .violations:
      lines.append("result: VIOLATIONS FOUND")
    case .inconclusive:
      lines.append(
        "result: INCONCLUSIVE: no violation, but not enough to call it clean ("
          + reasons.joined(separator: "; ") + ")")
    }
    return lines
  }
}
