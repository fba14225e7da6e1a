import Foundation
import Testing

@testable import StressKit

@Suite("Verdicts")
struct VerdictTests {
  static let enough = [WorkMeasure("registrations", done: 500, required: 200)]
  static let tooLittle = [WorkMeasure("registrations", done: 0, required: 200)]
  static let found = [
    ViolationSummary(kind: .staleSection, count: 1, examples: ["vCPU 0 ..."])
  ]

  @Test func cleanNeedsEveryMinimumAndNoViolation() {
    #expect(Verdict(work: Self.enough, violations: []) == .clean)
    #expect(Verdict(work: Self.enough + Self.tooLittle, violations: []) == .inconclusive)
    #expect(Verdict.clean.exitStatus == 0)
    #expect(Verdict.inconclusive.exitStatus == 2)
  }

  @Test func aViolationWinsEvenAfterTooLittleWork() {
    #expect(Verdict(work: Self.tooLittle, violations: Self.found) == .violations)
    #expect(Verdict.violations.exitStatus == 1)
  }

  @Test func anInconclusiveReportSaysWhatFellShort() {
    let lines = Outcome(work: Self.tooLittle, violations: []).lines
    #expect(lines.last?.hasPrefix("result: INCONCLUSIVE") == true)
    #expect(lines.last?.contains("registrations 0 < 200") == true)
    #expect(!lines.contains("result: clean"))
  }

  @Test func violationKindsKeepTheirNamesInJSON() throws {
    let data = try JSONEncoder().encode(Self.found)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains(#""kind":"stale-section""#))
    #expect(try JSONDecoder().decode([ViolationSummary].self, from: data) == Self.found)
  }

  /// A report whose only content is its outcome.
  struct Report: CheckReport {
    let command = "test"
    let verdict: Verdict
    let work: [WorkMeasure]
    let violations: [ViolationSummary]
    init(work: [WorkMeasure], violations: [ViolationSummary]) {
      self.work = work
      self.violations = violations
      verdict = Verdict(work: work, violations: violations)
    }
    var text: String { outcome.lines.joined(separator: "\n") }
  }

  @Test func aViolationExitsOneEvenWhenItsJSONCannotBeWritten() throws {
    let folder = try temporaryFolder()
    let json = try JSONDestination(validating: folder.appendingPathComponent("r.json").path)
    try FileManager.default.removeItem(at: folder)  // the folder goes away during the run
    #expect(Report(work: Self.enough, violations: Self.found).deliver(json: json) == 1)
    #expect(Report(work: Self.enough, violations: []).deliver(json: json) == 2)
  }

  @Test func theJSONCarriesTheVerdictWorkAndViolations() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("r.json")
    let json = try JSONDestination(validating: url.path)
    #expect(Report(work: Self.tooLittle, violations: []).deliver(json: json) == 2)
    let written = try jsonVerdict(at: url)
    #expect(written.verdict == "inconclusive")
    #expect(written.kinds.isEmpty)
  }
}
