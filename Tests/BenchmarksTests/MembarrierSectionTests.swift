import Foundation
import Testing

@testable import Benchmarks

extension BenchmarkTests {
  @Suite("membarrier counts")
  struct Membarrier {
    let settings = BenchSettings.tiny()

    @Test(
      "the probe sees memb's membarrier calls and none of qsbr's",
      .enabled(if: straceIsInstalled, "strace is not installed"))
    func probe() throws {
      try #require(
        FileManager.default.isExecutableFile(atPath: stressExecutable),
        "the stress executable is missing at \(stressExecutable): build the package first")
      let probe = MembarrierProbe(
        executable: stressExecutable, arguments: MembarrierProbe.stressBench.arguments)
      let counts = MembarrierSection(probe: probe, seconds: 0.3).measure(settings)
      #expect(counts.map(\.flavor) == [.memb, .qsbr])
      #expect(counts.allSatisfy { $0.unavailableReason == nil }, "\(counts)")
      #expect((counts[0].calls ?? 0) > 0, "memb's grace periods call membarrier")
      #expect(counts[1].calls == 0, "qsbr's never do")
    }

    @Test("a probe that cannot run says why, and the target misses")
    func unavailable() {
      let section = MembarrierSection(probe: unavailableProbe, seconds: 0.01)
      let counts = section.measure(settings)
      #expect(counts.count == 2)
      #expect(counts.allSatisfy { $0.calls == nil && $0.unavailableReason?.isEmpty == false })
      let verdicts = section.judge(counts, settings: settings)
      #expect(verdicts.count == 1)
      #expect(verdicts.first?.outcome == .missed && verdicts.first?.value == nil)
      #expect(section.render(counts).contains("not measured: "))
    }

    @Test("qsbr's zero counts only when memb's calls were seen and qsbr made grace periods")
    func zeroMeansSomething() {
      func outcome(qsbrCalls: Int, qsbrUpdates: Int, membCalls: Int) -> TargetVerdict.Outcome? {
        let counts = [
          MembarrierSection.Count(
            flavor: .memb, readers: 2, seconds: 1, calls: membCalls, updates: 500),
          MembarrierSection.Count(
            flavor: .qsbr, readers: 2, seconds: 1, calls: qsbrCalls, updates: qsbrUpdates),
        ]
        return MembarrierSection().judge(counts, settings: settings).first?.outcome
      }
      #expect(outcome(qsbrCalls: 0, qsbrUpdates: 500, membCalls: 900) == .met)
      #expect(outcome(qsbrCalls: 2, qsbrUpdates: 500, membCalls: 900) == .missed)
      #expect(outcome(qsbrCalls: 0, qsbrUpdates: 500, membCalls: 0) == .missed)
      #expect(outcome(qsbrCalls: 0, qsbrUpdates: 50, membCalls: 900) == .missed)
    }

    @Test("a trace's calls are counted between the markers, an interrupted call once")
    func traceParsing() throws {
      let begin = MembarrierProbe.beginMarker
      let end = MembarrierProbe.endMarker
      let trace = """
        100 membarrier(MEMBARRIER_CMD_QUERY, 0) = 0x1fb
        100 access("\(begin)", F_OK) = -1 ENOENT (No such file or directory)
        101 membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0 <unfinished ...>
        102 membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) = 0
        101 <... membarrier resumed>) = 0
        100 access("\(end)", F_OK) = -1 ENOENT (No such file or directory)
        103 membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) = 0
        """
      #expect(try MembarrierProbe.membarrierCalls(inTrace: trace) == 2)
      #expect(throws: ProbeFailure.self) {
        try MembarrierProbe.membarrierCalls(inTrace: "100 membarrier(MEMBARRIER_CMD_QUERY, 0) = 0")
      }
    }
  }
}
