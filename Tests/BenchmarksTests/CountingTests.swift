import Foundation
import Testing

@testable import Benchmarks

extension BenchmarkTests {
  @Suite("counted cost")
  struct Counting {
    static let summary = """
      ==29433== I   refs:      1,127,431
      ==29433== I1  misses:      1,091
      ==29433== LLi misses:      1,072
      ==29433==
      ==29433== D   refs:       39,617  (29,355 rd   + 10,262 wr)
      ==29433== D1  misses:      1,561  ( 1,218 rd   +    343 wr)
      ==29433== LLd misses:      1,318  ( 1,007 rd   +    311 wr)
      ==29433== LL misses:       2,390  ( 2,079 rd   +    311 wr)
      ==29433== Branches:       25,536  (25,257 cond +    279 ind)
      ==29433== Mispredicts:     3,307  ( 3,157 cond +    150 ind)
      """

    @Test("valgrind's summary is read, and one without its counts is refused")
    func summary() throws {
      let totals = try #require(ValgrindTotals(summary: Self.summary))
      #expect(totals.instructions == 1_127_431 && totals.dataAccesses == 39_617)
      #expect(totals.level1InstructionMisses == 1_091 && totals.level1DataMisses == 1_561)
      #expect(totals.lastLevelMisses == 2_390)
      #expect(totals.branches == 25_536 && totals.mispredicts == 3_307)
      let noCacheSimulation = Self.summary.split(separator: "\n").filter {
        !$0.contains("misses")
      }.joined(separator: "\n")
      #expect(ValgrindTotals(summary: noCacheSimulation) == nil)
    }

    @Test("a cost is the difference of the two runs per extra operation")
    func difference() throws {
      let shorter = try #require(ValgrindTotals(summary: Self.summary))
      var longer = shorter
      longer.instructions += 64 * 41
      longer.level1DataMisses += 32
      let cost = CountedCost(shorter: shorter, longer: longer, operations: 64)
      #expect(cost.instructions == 41 && cost.level1DataMisses == 0.5 && cost.branches == 0)
    }

    @Test("every workload's name reads back as the workload")
    func names() throws {
      for work in CountedWork.all + CountedWork.continuousIntegration {
        #expect(CountedWork(work.description) == work)
        #expect(try roundTrip([work]) == [work])
      }
      #expect(CountedWork.all.count == 8 * 4 + 2 + BenchFlavor.allCases.count)
      for bad in ["floor", "floor/0", "nope/64", "exit/loaded", "ring/1", "eventfd/x", ""] {
        #expect(CountedWork(bad) == nil, "\(bad)")
      }
    }

    @Test("every workload runs in-process with every operation claimed")
    func workloadsRun() throws {
      for work in CountedWork.continuousIntegration {
        #expect(try work.run(operations: 128) == 0, "\(work)")
      }
      #expect(
        try CountedWork.dispatch(.qsbr, entries: 64).run(operations: 64, injectedSteps: 3) == 0)
    }

    static func report(floor: Double, qsbr: Double, memb: Double) -> CountedReport {
      func cost(_ instructions: Double) -> CountedCost {
        CountedCost(
          instructions: instructions, branches: 1, mispredicts: 0, dataAccesses: 1,
          level1DataMisses: 0, level1InstructionMisses: 0, lastLevelMisses: 0)
      }
      return CountedReport(
        rows: [(CountedDesign.floor, floor), (.qsbr, qsbr), (.memb, memb)].flatMap {
          design, cost0 in
          [16, 64].map {
            CountedReport.Row(work: .dispatch(design, entries: $0), cost: cost(cost0))
          }
        })
    }

    @Test("the over-the-floor gates hold qsbr to 8 instructions and memb to 32")
    func overFloor() {
      let within = CountedGates.judge(Self.report(floor: 40, qsbr: 48, memb: 72), baseline: nil)
      #expect(within.map(\.outcome) == [.met, .met])
      #expect(within.allSatisfy { $0.basis == .counted })
      let qsbrOver = CountedGates.judge(Self.report(floor: 40, qsbr: 48.5, memb: 72), baseline: nil)
      #expect(qsbrOver.map(\.outcome) == [.missed, .met])
      let membOver = CountedGates.judge(Self.report(floor: 40, qsbr: 41, memb: 72.5), baseline: nil)
      #expect(membOver.map(\.outcome) == [.met, .missed])
    }

    @Test("the baseline gate allows 2% more instructions, and fails past it")
    func baseline() throws {
      let report = Self.report(floor: 40, qsbr: 45, memb: 50)
      #expect(CountedGates.judge(report, baseline: report).last?.outcome == .met)
      let lowered = report.scalingInstructions(by: 0.97)
      #expect(CountedGates.judge(report, baseline: lowered).last?.outcome == .missed)
      #expect(
        CountedGates.judge(report, baseline: report.scalingInstructions(by: 0.985))
          .last?.outcome == .met, "1.5% more is within the gate")
      #expect(try roundTrip(report) == report)
      #expect(report.text.contains("qsbr/64"))
    }
  }
}
