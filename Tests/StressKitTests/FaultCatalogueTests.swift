import ConcurrentBus
import Testing

@testable import StressKit

/// The catalogue as a specification: complete, unambiguous, and judged strictly.
@Suite("Fault catalogue")
struct FaultCatalogueTests {
  @Test("every torture and churn fault has exactly one catalogue entry")
  func everyFaultIsCatalogued() {
    let torture = FaultCatalogue.torture.map(\.name).filter { $0 != "broken-flavor" }
    #expect(Set(torture) == Set(TortureFault.allCases.filter { $0 != .none }.map(\.rawValue)))
    #expect(torture.count == Set(torture).count)
    let churn = (FaultCatalogue.churn + FaultCatalogue.ring).map(\.name).filter {
      $0 != "broken-flavor"
    }
    #expect(Set(churn) == Set(ChurnFault.allCases.filter { $0 != .none }.map(\.rawValue)))
    #expect(FaultCatalogue.all.allSatisfy { !$0.detectors.isEmpty })
  }

  @Test("a fault's command line names its command, flavor, duration and seed")
  func commandLine() {
    let skip = FaultCatalogue.entry(command: "torture", name: "skip-grace-period")!
    #expect(
      skip.commandLine(flavor: .shipped(.bp), duration: 10, seed: 3, every: 10_000) == [
        "torture", "--fault", "skip-grace-period", "--fault-every", "10000", "--flavor", "bp",
        "--duration", "10.0", "--seed", "3",
      ])
    let broken = FaultCatalogue.entry(command: "churn", name: "broken-flavor")!
    #expect(broken.commandLine(flavor: .shipped(.memb), duration: 1, seed: 1).contains("broken"))
  }

  @Test("a run counts as caught only with exit 1 and one of the fault's detectors")
  func caughtNeedsTheDetector() {
    func run(_ status: Int32?, _ kinds: [String]) -> ChildRun {
      ChildRun(
        arguments: [], exitStatus: status, signal: status == nil ? 11 : nil, timedOut: false,
        kinds: kinds, firstSeen: ["grace-period-overlap": 0.5], wallSeconds: 1, stderrTail: "")
    }
    let detectors = ["grace-period-overlap"]
    #expect(
      FaultCampaignRow.caughtSeconds(run(1, ["grace-period-overlap"]), detectors: detectors) == 0.5)
    #expect(FaultCampaignRow.caughtSeconds(run(1, ["crash"]), detectors: detectors) == nil)
    #expect(FaultCampaignRow.caughtSeconds(run(1, ["crash"]), detectors: ["crash"]) == 1)
    #expect(FaultCampaignRow.caughtSeconds(run(0, []), detectors: detectors) == nil)
    #expect(FaultCampaignRow.caughtSeconds(run(nil, []), detectors: detectors) == nil)
  }
}
