import RCU
import RCUFaultFlavors
import Testing

/// What every flavor must do, each check run on every flavor; and each shown to catch a
/// flavor that gets it wrong.
@Suite("Every flavor")
struct FlavorTests {
  @Test(
    "a reader parked inside its section keeps synchronize from returning",
    arguments: TestedFlavor.allCases)
  func gracePeriodWaitsForReader(flavor: TestedFlavor) async throws {
    try await expectPasses(.gracePeriodWaitsForReader, on: flavor)
  }

  @Test(
    "deferred work waits for older readers, runs once, and has run after barrier",
    arguments: TestedFlavor.allCases)
  func deferredWorkWaitsForReader(flavor: TestedFlavor) async throws {
    try await expectPasses(.deferredWorkWaitsForReader, on: flavor)
  }

  @Test(
    "works deferred from many threads each run exactly once by barrier",
    arguments: TestedFlavor.allCases)
  func deferredWorkRunsOnceEach(flavor: TestedFlavor) async throws {
    try await expectPasses(.deferredWorkRunsOnceEach, on: flavor)
  }

  @Test(
    "work may be deferred inside a section and from inside a work",
    arguments: TestedFlavor.allCases)
  func deferralFromSectionsAndWorks(flavor: TestedFlavor) async throws {
    try await expectPasses(.deferralFromSectionsAndWorks, on: flavor)
  }

  @Test(
    "a deferred work that blocks delays no other work",
    arguments: TestedFlavor.allCases.filter(\.usesOwnReclaimer))
  func blockingWorkDelaysNoOther(flavor: TestedFlavor) async throws {
    try await expectPasses(.blockingWorkDelaysNoOther, on: flavor)
  }

  @Test("isInReadSection is true exactly inside sections", arguments: TestedFlavor.allCases)
  func readSectionIsTrackedExactly(flavor: TestedFlavor) async throws {
    try await expectPasses(.readSectionIsTrackedExactly, on: flavor)
  }

  @Test(
    "threads nobody registered read safely",
    arguments: TestedFlavor.allCases.filter(\.registersLazily))
  func unregisteredThreadsRead(flavor: TestedFlavor) async throws {
    try await expectPasses(.unregisteredThreadsRead, on: flavor)
  }

  // MARK: - The checks catch what they check

  @Test("the grace-period and deferral checks catch a flavor whose grace period does not wait")
  func brokenFlavorIsCaught() throws {
    #expect(try checkGracePeriodWaitsForReader(BrokenRCU.self) != nil)
    #expect(try checkDeferredWorkWaitsForReader(BrokenRCU.self) != nil)
    #expect(try checkDeferralFromSectionsAndWorks(BrokenRCU.self) != nil)
    #expect(try checkUnregisteredThreadsRead(BrokenRCU.self) != nil)
  }

  @Test("the section check catches a flavor that does not track sections")
  func untrackedSectionsAreCaught() throws {
    #expect(try checkReadSectionIsTrackedExactly(BrokenRCU.self) != nil)
  }

  @Test("the blocking check catches liburcu's call_rcu, whose one worker runs every callback")
  func callRCUWorkerIsCaught() throws {
    let loaded = try ExampleLibrary.load()
    #expect(try checkBlockingWorkDelaysNoOther(loaded, patience: .seconds(1)) != nil)
  }
}
