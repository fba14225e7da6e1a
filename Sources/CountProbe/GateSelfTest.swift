import Benchmarks

/// Shows that each counted gate fails on a regression: the baseline gate against the
/// committed baseline edited down by 3%, and the over-the-floor gates and the baseline gate
/// against qsbr and memb counted with extra steps injected into every dispatch (the floor
/// is not). A gate that does not fail is reported as a failure of the self-test.
struct GateSelfTest {
  let callgrind: Callgrind
  let report: CountedReport
  let baseline: CountedReport

  /// Steps injected per dispatch: each costs a few instructions, so qsbr and memb move
  /// past their limits over the floor and far past 2% of their baseline.
  static let injectedSteps = 4

  /// Runs both checks; the names of the gates that did not fail as they should.
  func run() throws -> [String] {
    print("\nSELF-TEST: each gate must fail on a regression")
    var failures: [String] = []
    func expectMissed(_ verdicts: [TargetVerdict], _ what: String) {
      for verdict in verdicts {
        let caught = verdict.outcome == .missed
        print("  [\(caught ? "caught" : "NOT CAUGHT")] \(what): \(verdict.name): \(verdict.figure)")
        if !caught { failures.append("self-test, \(what): \(verdict.name)") }
      }
    }
    expectMissed(
      [CountedGates.judge(report, baseline: baseline.scalingInstructions(by: 0.97)).last!],
      "baseline edited down 3%")

    let floor = CountedWork.dispatch(.floor, entries: 64)
    let injected: [CountedWork] = [.dispatch(.qsbr, entries: 64), .dispatch(.memb, entries: 64)]
    guard let floorCost = report.cost(of: floor) else {
      return failures + ["self-test: \(floor) was not counted"]
    }
    let costs = try callgrind.costs(of: injected, injectedSteps: Self.injectedSteps)
    let regressed = CountedReport(
      rows: [CountedReport.Row(work: floor, cost: floorCost)]
        + zip(injected, costs).map { CountedReport.Row(work: $0, cost: $1) })
    expectMissed(
      CountedGates.judge(regressed, baseline: baseline),
      "\(Self.injectedSteps) steps injected into qsbr/64 and memb/64")
    return failures
  }
}
