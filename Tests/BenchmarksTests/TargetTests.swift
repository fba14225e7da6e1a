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
