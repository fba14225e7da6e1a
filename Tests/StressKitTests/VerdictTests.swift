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

  static let ranShort = [
    Shortfall(kind: .descriptors, count: 3, examples: ["hotplug thread 0: create: EMFILE"])
  ]

  @Test func aToolThatRanShortIsInconclusiveNeverClean() {
    #expect(Verdict(work: Self.enough, violations: [], shortfalls: Self.ranShort) == .inconclusive)
    let outcome = Outcome(work: Self.enough, violations: [], shortfalls: Self.ranShort)
    #expect(outcome.headline.hasPrefix("verdict: INCONCLUSIVE"))
    #expect(outcome.headline.contains("descriptors"), "\(outcome.headline)")
    #expect(outcome.lines.last?.contains("the tool ran short of descriptors") == true)
  }

  @Test func aViolationWinsOverAShortfall() {
    #expect(
      Verdict(work: Self.enough, violations: Self.found, shortfalls: Self.ranShort) == .violations)
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
    let work: [WorkMeasure]
    let violations: [ViolationSummary]
    var shortfalls: [Shortfall] = []
    var text: String { outcome.lines.joined(separator: "\n") }
  }

  static let header = ReportHeader(replay: ["churn", "--seed", "7", "--flavor", "memb"])

  @Test func aReportThatCannotBeWrittenNeverCostsTheVerdict() throws {
    let folder = try temporaryFolder()
    let json = try JSONDestination(validating: folder.appendingPathComponent("r.json").path)
    try FileManager.default.removeItem(at: folder)  // the folder goes away during the run
    let found = Report(work: Self.enough, violations: Self.found)
    #expect(found.deliver(json: json, header: Self.header) == 1)
    #expect(Report(work: Self.enough, violations: []).deliver(json: json, header: Self.header) == 0)
    #expect(
      Report(work: Self.tooLittle, violations: []).deliver(json: json, header: Self.header) == 2)
  }

  @Test func aPathThatCannotBeCreatedIsRefusedBeforeTheRun() throws {
    // /proc passes a permission check even for root, but nothing can be created there.
    #expect(throws: SetupFailure.self) { try JSONDestination(validating: "/proc/report.json") }
    #expect(throws: SetupFailure.self) {
      try JSONDestination(validating: "/nonexistent-folder/report.json")
    }
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("r.json").path
    _ = try JSONDestination(validating: path)
    #expect(!FileManager.default.fileExists(atPath: path), "the check leaves nothing behind")
  }

  @Test func theJSONStartsWithTheVerdictThenTheHeader() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("r.json")
    let json = try JSONDestination(validating: url.path)
    #expect(
      Report(work: Self.tooLittle, violations: []).deliver(json: json, header: Self.header) == 2)
    let written = try jsonVerdict(at: url)
    #expect(written.verdict == "inconclusive")
    #expect(written.kinds.isEmpty)
    let text = try String(contentsOf: url, encoding: .utf8)
    let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }
      .map { $0.dropFirst(3).prefix { $0 != "\"" } }
    #expect(keys.prefix(2) == ["verdict", "header"], "\(keys)")
    #expect(Array(keys.dropFirst(2)) == keys.dropFirst(2).sorted(), "the rest in order")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    let header = try #require(object["header"] as? [String: Any])
    let tool = try #require(header["tool"] as? [String: Any])
    #expect((tool["commit"] as? String)?.isEmpty == false)
    #expect((tool["version"] as? String)?.isEmpty == false)
    let host = try #require(header["host"] as? [String: Any])
    #expect((host["cores"] as? Int ?? 0) > 0)
    #expect((host["kernel"] as? String)?.hasPrefix("Linux") == true)
    #expect((header["replay"] as? String)?.hasSuffix("churn --seed 7 --flavor memb") == true)
    #expect(object["shortfalls"] is [Any])
  }

  @Test func theTextStartsWithTheVerdictAndEndsWithTheReplayCommand() {
    let text = Report(work: Self.enough, violations: Self.found).document(header: Self.header)
    let lines = text.split(separator: "\n")
    #expect(lines.first == "verdict: VIOLATIONS FOUND (stale-section)")
    #expect(lines[1].hasPrefix("stress ") && lines[1].contains("commit "))
    #expect(lines[2].hasPrefix("host: "))
    #expect(lines.last == "replay: stress churn --seed 7 --flavor memb")
  }
}
