import ConcurrentBus
import RCUFaultFlavors
import Testing

@testable import StressKit

extension FaultInjectionSuites {
  /// The litmus engine as a specification, judged by counts: each test catches the fault it
  /// exists for within a bounded number of iterations, and a correct flavor gives no
  /// forbidden outcome over a bounded count with both orders of the race seen often.
  @Suite("Litmus")
  struct LitmusTests {
    /// Enough to judge in a short test run.
    static let testMinimum = LitmusMinimum(iterations: 1_000, eachOrder: 50)

    static func configuration(
      _ tests: [LitmusTestName], flavor: FlavorChoice = .shipped(.memb),
      fault: TortureFault = .none, every: Int? = nil, iterations: UInt64
    ) -> LitmusConfiguration {
      var configuration = LitmusConfiguration(
        tests: tests, duration: 600, flavor: flavor, fault: fault, faultEvery: every, seed: 3,
        minimum: testMinimum, sliceSeconds: 0.02)
      configuration.iterationsPerTest = iterations
      return configuration
    }

    @Test(
      "a correct flavor gives no forbidden outcome, with both orders of every race seen",
      arguments: [FlavorChoice.shipped(.memb), .shipped(.qsbr), .toy(.mb), .toy(.memb)])
    func correctFlavorIsClean(flavor: FlavorChoice) throws {
      // A run starved of CPU says inconclusive (a shortfall): another seed, at most three.
      let report = try attempts(limit: 3, budget: .seconds(120)) {
        $0.verdict != .inconclusive
      } _: { (index) throws -> LitmusReport in
        var configuration = Self.configuration(
          LitmusTestName.allCases, flavor: flavor, iterations: 5_000)
        configuration.seed = 3 + UInt64(index)
        return try Litmus.run(configuration)
      }.last!
      #expect(report.violations.isEmpty, "\(report.text)")
      #expect(report.verdict == .clean, "\(report.text)")
      for test in report.tests {
        #expect(test.forbiddenCount == 0)
        #expect(test.iterations == test.outcomes.values.reduce(0, +))
      }
    }

    @Test(
      "each test catches the fault it exists for, within a bounded number of iterations",
      .disabled(if: underSanitizer, "a sanitizer changes the timing the windows need"),
      arguments: [
        (LitmusTestName.deferredFree, TortureFault.rcu(.skipGracePeriod)),
        (.nestedSections, .rcu(.nestingBug)),
        (.callback, .rcu(.earlyCallback)),
        (.messagePassing, .publishBeforeInit),
      ])
    func faultIsCaught(test: LitmusTestName, fault: TortureFault) throws {
      let report = try Litmus.run(
        Self.configuration([test], fault: fault, every: 1, iterations: 1_000_000))
      #expect(report.violations.map(\.kind) == [test.violation], "\(report.text)")
    }

    /// The windows of these faults are nanoseconds wide, and a debug build's reader takes
    /// longer than that between the handshake and its section: an optimized build catches
    /// them in about 10,000 iterations (`stress litmus`, and `Scripts/check-faults.sh` in
    /// CI), a debug build in millions. So this runs in optimized builds only.
    @Test(
      "an entry without its fence, a grace period without its membarrier: both caught",
      .enabled(if: optimizedBuild && !underSanitizer, "needs an optimized, uninstrumented build"),
      arguments: [ToyRCUName.mbUnfencedEntry, .membNoMembarrier])
    func orderingFaultIsCaught(variant: ToyRCUName) throws {
      let report = try Litmus.run(
        Self.configuration(
          [.deferredFree, .storeBuffering], flavor: .toy(variant), iterations: 2_000_000))
      let caught = report.violations.map(\.kind).filter {
        [.litmusDeferredFree, .litmusStoreBuffering].contains($0)
      }
      #expect(!caught.isEmpty, "\(report.text)")
    }

    /// Store buffering's forbidden outcome needs both threads' loads to fall inside a window
    /// of a few instructions: a debug build's reader missed it in 1,000,000 iterations.
    @Test(
      "the store-buffering test catches a skipped grace period",
      .enabled(if: optimizedBuild && !underSanitizer, "needs an optimized, uninstrumented build"))
    func storeBufferingCatchesASkippedGracePeriod() throws {
      let report = try Litmus.run(
        Self.configuration(
          [.storeBuffering], fault: .rcu(.skipGracePeriod), every: 1, iterations: 2_000_000))
      #expect(report.violations.map(\.kind) == [.litmusStoreBuffering], "\(report.text)")
    }

    @Test("a run stopped before its minimum is inconclusive, not clean")
    func tooLittleIsInconclusive() throws {
      let report = try Litmus.run(Self.configuration([.deferredFree], iterations: 100))
      #expect(report.violations.isEmpty)
      #expect(report.verdict == .inconclusive, "\(report.text)")
    }

    @Test("every litmus fault of the catalogue names only litmus detectors, and a flavor or fault")
    func catalogueRows() {
      let litmusKinds = Set(LitmusTestName.allCases.map(\.violation))
      for fault in FaultCatalogue.litmus {
        #expect(fault.command == "litmus")
        #expect(Set(fault.detectors).isSubset(of: litmusKinds), "\(fault.id)")
        #expect(fault.flavor != nil || fault.arguments.contains("--fault"), "\(fault.id)")
      }
      #expect(FaultCatalogue.litmus.filter { $0.flavor != nil }.count == 2)
    }
  }
}

/// Whether the code under test was compiled with optimization.
#if DEBUG
  let optimizedBuild = false
#else
  let optimizedBuild = true
#endif
