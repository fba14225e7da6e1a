import Foundation
import Testing

@testable import Benchmarks

/// One short run of every section, shared by the report's tests.
private let shortRun: Result<BenchReport, any Error> = Result {
  try BenchRun(settings: .tiny()).measure([
    ReadSideSection(), ReadTargetsSection(), FlavorChurnSection(), OversubscriptionSection(),
    ReclamationSection(count: 2), MembarrierSection(probe: unavailableProbe, seconds: 0.01),
    WriteSideSection(count: 4, preexisting: 2), EventFDSection(registrations: 2, operations: 256),
    RingSection(preexisting: 2, operations: 4096, bursts: 2),
  ])
}

extension BenchmarkTests {
  @Suite("the report")
  struct Report {
    @Test("a run has every section, in registry order, and judges every target once")
    func sectionsAndTargets() throws {
      let report = try shortRun.get()
      #expect(report.sections.map(\.key) == BenchSections.all.map(\.key))
      let names = report.targets.map(\.name)
      #expect(Set(names).count == names.count)
      let kvm = report.result(of: WriteSideSection())?.kvmUnavailableReason == nil
      // read 7 (no 10000 entries), churn 2, oversubscription 1, reclamation 4 (2 flavors x 2
      // paces), membarrier 1, write 1 + KVM's, rings 2.
      #expect(names.count == 7 + 2 + 1 + 4 + 1 + (kvm ? 2 : 1) + 2)
      #expect(report.text.contains("TARGETS"))
      // Every target but the membarrier count is judged on rounds, with an interval.
      #expect(
        report.targets.filter { $0.interval == nil }.map(\.name) == [
          "no membarrier system call during a qsbr churn run"
        ])
    }

    @Test("the JSON report round-trips, and renders the same text decoded")
    func jsonRoundTrip() throws {
      let report = try shortRun.get()
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let data = try encoder.encode(report)
      let decoded = try JSONDecoder().decode(BenchReport.self, from: data)
      #expect(try encoder.encode(decoded) == data)
      #expect(decoded.text == report.text)
      #expect(decoded.targets == report.targets)
      let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
      for key in BenchSections.all.map(\.key) + ["machine", "targets", "totalSeconds", "figures"] {
        #expect(object[key] != nil, "\(key)")
      }
    }

    @Test("every figure is drawable: full table rows, series as long as their axes")
    func figures() throws {
      let report = try shortRun.get()
      let figures = report.sections.map(\.figures)
      for table in figures.flatMap(\.tables) {
        #expect(table.rows.allSatisfy { $0.count == table.columns.count }, "\(table.title ?? "")")
      }
      for panel in figures.flatMap(\.charts).flatMap(\.panels) {
        for series in panel.series {
          #expect(series.x.count == series.y.count, "\(panel.title)")
          #expect(series.yMin.map { $0.count == series.y.count } ?? true)
          #expect(series.yMax.map { $0.count == series.y.count } ?? true)
          if let categories = panel.categories { #expect(series.x.count == categories.count) }
        }
      }
      #expect(
        Set(figures.flatMap(\.charts).map(\.file)) == [
          "throughput-vs-threads.png", "throughput-vs-threads-churn.png", "ns-vs-table-size.png",
          "flavors.png",
        ])
    }

    @Test("--only takes each section's word once; write selects its three sections")
    func registry() {
      #expect(Set(BenchSections.all.map(\.key)).count == BenchSections.all.count)
      #expect(
        BenchSections.options == [
          "read", "churn", "oversubscription", "reclamation", "membarrier", "write",
        ])
      #expect(BenchSections.selected(by: ["write"]).map(\.key) == ["write", "eventFD", "ring"])
      #expect(BenchSections.selected(by: []).count == BenchSections.all.count)
    }
  }
}
