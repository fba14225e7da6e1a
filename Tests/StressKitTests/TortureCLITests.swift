import Foundation
import Testing

/// `stress torture` and `stress faults` as child processes: every flavor (signal takes
/// SIGUSR1 and a loaded library is process-wide, so neither runs inside the test process),
/// and the campaign's table and exit status.
@Suite("Torture and faults from the command line")
struct TortureCLITests {
  /// The example RCU library, built next to the test bundle.
  static var exampleLibrary: String {
    stressExecutable.deletingLastPathComponent().appendingPathComponent(
      "libExampleRCULibrary.so"
    ).path
  }

  @Test(
    "stress torture stays clean on every flavor, with enough work to say so",
    arguments: ["memb", "bp", "qsbr", "mb", "signal", "loaded"])
  func cleanOnEveryFlavor(flavor: String) throws {
    // ThreadSanitizer delivers signals only at its own safe points, which a reader spinning
    // inside a section never reaches: liburcu-signal's grace period would wait forever.
    if flavor == "signal" && underThreadSanitizer { return }
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let json = folder.appendingPathComponent("torture.json")
    // bp and signal end a grace period every few milliseconds at best: give them longer.
    let seconds = ["bp", "signal"].contains(flavor) ? "5" : "2"
    // On a loaded machine the minimum of work may take longer: up to a minute more.
    var arguments = [
      "torture", "--duration", seconds, "--minimum-work-within", "60", "--json", json.path,
    ]
    arguments +=
      flavor == "loaded" ? ["--rcu-library", Self.exampleLibrary] : ["--flavor", flavor]
    // A run starved of CPU says inconclusive (exit 2): another seed, at most three.
    let inconclusive: Int32 = 2
    let results = try attempts(limit: 3, budget: .seconds(150)) {
      $0.status != inconclusive
    } _: { index in
      try runStress(arguments + ["--seed", "\(index + 1)"])
    }
    let result = results.last!
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    let report = try jsonVerdict(at: json)
    #expect(report.verdict == "clean")
    #expect(report.kinds.isEmpty)
  }

  @Test(
    "stress faults meets its targets on a fault and a clean run, and says so in JSON",
    .disabled(if: underSanitizer, "faults free memory readers use"))
  func campaignMeetsTargets() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let json = folder.appendingPathComponent("faults.json")
    let result = try runStress([
      "faults", "--only", "torture/double-callback", "--seeds", "1", "--rare-every", "0",
      "--clean-runs", "1", "--clean-duration", "2", "--clean-flavors", "memb", "--json",
      json.path,
    ])
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("targets: all 3 met"))
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
    let rows = try #require(object?["rows"] as? [[String: Any]])
    #expect(rows.count == 3)  // the fault, a clean torture and a clean litmus run
    #expect(rows.allSatisfy { $0["met"] as? Bool == true })
  }

  @Test("stress faults fails when a fault is not caught within its time")
  func campaignReportsAMiss() throws {
    // Once in a billion synchronize calls cannot fire in half a second.
    let result = try runStress([
      "faults", "--only", "torture/skip-grace-period", "--seeds", "1", "--rare-every",
      "1000000000", "--rare-duration", "0.5", "--clean-runs", "0",
    ])
    // Not caught: MISSED (exit 1) when the run did its minimum of work, INCONCLUSIVE (exit
    // 2) when half a second on a loaded machine was too little to judge. Never met.
    let missed = result.status == 1 && result.stdout.contains("MISSED")
    let undecided = result.status == 2 && result.stdout.contains("INCONCLUSIVE")
    #expect(missed || undecided, "\(result.stdout)\n\(result.stderr)")
  }
}
