import Foundation
import Testing

@testable import Benchmarks

extension BenchmarkTests {
  @Suite("targets")
  struct Targets {
    @Test("each bound admits what it says, and the limit itself only when it should")
    func bounds() {
      #expect(Target.Bound.atMost(1.2).admits(1.2) && !Target.Bound.atMost(1.2).admits(1.21))
      #expect(Target.Bound.atLeast(15).admits(15) && !Target.Bound.atLeast(15).admits(14.9))
      #expect(Target.Bound.below(1).admits(0.99) && !Target.Bound.below(1).admits(1))
      #expect(Target.Bound.exactly(0).admits(0) && !Target.Bound.exactly(0).admits(1))
    }

    @Test("a figure not measured, or one the run cannot vouch for, misses")
    func misses() {
      let target = Target("at most one", .atMost(1))
      #expect(target.judge(0.5, figure: "").outcome == .met)
      #expect(target.judge(2, figure: "").outcome == .missed)
      #expect(target.judge(nil, figure: "not measured").outcome == .missed)
      #expect(target.judge(0.5, figure: "", conclusive: false).outcome == .missed)
    }

    @Test("a verdict's JSON keeps `met` beside its outcome and bound, and round-trips")
    func json() throws {
      let verdict = Target("at least 15", .atLeast(15)).judge(20, figure: "20x")
      let object = try #require(
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(verdict)) as? [String: Any])
      #expect(object["met"] as? Bool == true)
      #expect(object["outcome"] as? String == "met")
      #expect(object["interval"] == nil)
      #expect(try roundTrip(verdict) == verdict)
    }
  }
}

extension BenchmarkTests {
  @Suite("targets judged on paired rounds")
  struct RoundTargets {
    let target = Target("at most 1.2x", .atMost(1.2))

    @Test("met when the whole interval keeps the bound, missed when none of it does")
    func metAndMissed() {
      let met = target.judge(rounds: [1.05, 1.08, 1.1, 1.07, 1.09], figure: "")
      #expect(met.outcome == .met && met.interval != nil)
      #expect(met.value == 1.08, "the median of the rounds")
      let missed = target.judge(rounds: [1.3, 1.35, 1.4, 1.32, 1.31], figure: "")
      #expect(missed.outcome == .missed)
    }

    @Test("unresolved when the interval straddles the limit, and settled once it is narrow")
    func unresolved() throws {
      let rounds = [1.0, 1.1, 1.2, 1.3, 1.4]
      let verdict = target.judge(rounds: rounds, figure: "")
      let interval = try #require(verdict.interval)
      #expect(verdict.outcome == .unresolved)
      #expect(interval.lower < 1.2 && interval.upper > 1.2 && interval.level == 0.95)
      #expect(!verdict.isSettled, "wider than the margin (0.2): more rounds may tell")
      let narrow = Target("at most 1.02x", .atMost(1.02), margin: 1)
        .judge(rounds: [1.0, 1.01, 1.02, 1.03, 1.04], figure: "")
      #expect(narrow.outcome == .unresolved && narrow.isSettled, "narrower than its margin")
    }

    @Test("the same rounds give the same interval: a decoded report is judged alike")
    func deterministic() {
      let rounds = [0.9, 1.4, 1.1, 0.8, 1.25, 1.0, 1.3]
      #expect(target.judge(rounds: rounds, figure: "") == target.judge(rounds: rounds, figure: ""))
    }

    @Test("a run that cannot tell, or no finite round, misses without an interval")
    func inconclusive() {
      #expect(target.judge(rounds: [], figure: "").outcome == .missed)
      #expect(target.judge(rounds: [.nan], figure: "").outcome == .missed)
      let refused = target.judge(rounds: [1, 1, 1], figure: "", conclusive: false)
      #expect(refused.outcome == .missed && refused.interval == nil)
    }

    @Test("exactly: met only when the interval is the limit itself")
    func exactly() {
      let one = Target("one", .exactly(1))
      #expect(one.judge(rounds: [1, 1, 1, 1], figure: "").outcome == .met)
      #expect(one.judge(rounds: [2, 2, 2, 2], figure: "").outcome == .missed)
      #expect(one.judge(rounds: [0, 1, 2, 0, 2, 1], figure: "").outcome == .unresolved)
    }

    @Test("a counted verdict says so; a report without basis or margin reads as timed")
    func countedAndOlderJSON() throws {
      let counted = target.judge(counted: 1.1, figure: "1.10")
      #expect(counted.basis == .counted && counted.interval == nil && counted.outcome == .met)
      #expect(counted.figureWithInterval == "1.10 (counted)")
      #expect(try roundTrip(counted) == counted)
      let older = """
        {"name": "n", "figure": "f", "value": 1, "bound": {"relation": "<=", "limit": 2},
         "outcome": "met", "met": true}
        """
      let decoded = try JSONDecoder().decode(TargetVerdict.self, from: Data(older.utf8))
      #expect(decoded.basis == .timed && decoded.margin == nil && decoded.outcome == .met)
      let rounds = target.judge(rounds: [1.0, 1.1, 1.3], figure: "x")
      #expect(try roundTrip(rounds) == rounds)
      #expect(rounds.figureWithInterval.hasPrefix("x [95%: "))
    }
  }
}
