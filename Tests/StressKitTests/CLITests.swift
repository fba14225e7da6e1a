import Foundation
import Testing

@testable import StressKit

/// The `stress` executable as a user meets it: every option checked up front with a
/// message and exit status 2, no trap on any input, and a verdict never hidden.
@Suite("stress CLI", .serialized)
struct CLITests {
  /// Options each subcommand must refuse before running (exit 2, message on stderr).
  @Test(arguments: [
    ["churn", "--duration", "1e308"],
    ["churn", "--duration", "-1"],
    ["churn", "--duration=-1"],
    ["churn", "--duration", "nan"],
    ["churn", "--vcpus", "1024"],
    ["churn", "--vcpus", "0"],
    ["churn", "--hotplug", "0"],
    ["churn", "--churn-devices", "2", "--hotplug", "3"],
    ["churn", "--devices", "100000"],
    ["churn", "--fault-every", "0"],
    ["churn", "--json", "/nonexistent-folder/report.json"],
    ["torture", "--readers", "0"],
    ["torture", "--readers", "100000"],
    ["torture", "--duration", "-1"],
    ["torture", "--json", "/nonexistent-folder/report.json"],
    ["kvm", "--vcpus", "0"],
    ["kvm", "--churn-devices", "0"],
    ["kvm", "--devices", "5000"],
    ["kvm", "--compare", "--repeats", "0"],
    ["kvm", "--compare", "--iterations", "-5"],
    ["bench", "--size", "0", "--quick"],
    ["bench", "--threads", "0"],
    ["bench", "--rounds", "0"],
    ["bench", "--seconds", "-1"],
    ["bench", "--seconds", "nan"],
    ["bench", "--json", "/nonexistent-folder/bench.json"],
    ["bench", "--flavor", "broken"],
    ["bench", "--only", "everything"],
    ["bench", "--read-only", "--only", "read"],
    ["bench", "--membarrier-probe", "qsbr", "--only", "churn"],
    ["churn", "--no-such-option"],
    // Options that would do nothing are refused, not ignored.
    ["churn", "--fault", "none", "--fault-every", "100"],
    ["churn", "--fault-every", "100"],
    ["churn", "--fault", "drop-entry", "--fault-every", "5"],
    ["churn", "--fault", "ring-early-return", "--fault-every", "5"],
    ["torture", "--fault", "skip-grace-period", "--fault-after-us", "5"],
    ["torture", "--fault-every", "3"],
    ["torture", "--fault-after-us", "5"],
    ["kvm", "--fault-every", "5"],
    // A path nothing can be created at, even as root.
    ["churn", "--json", "/proc/report.json"],
    // More descriptors than the process may open.
    ["churn", "--devices", "16256", "--churn-devices", "4096", "--consumers", "64"],
  ])
  func badOptionsAreRefusedUpFront(arguments: [String]) throws {
    let result = try runStress(arguments, timeout: 60)
    #expect(result.status == 2, "\(arguments): \(result.stderr)")
    #expect(!result.stderr.isEmpty)
    #expect(!result.stdout.contains("result:"), "refused before any work: \(result.stdout)")
  }

  @Test func theReportEndsWithTheCommandThatRepeatsTheRun() throws {
    let result = try runStress(["churn", "--duration", "0.02", "--seed", "5", "--vcpus", "1"])
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.first?.hasPrefix("verdict: ") == true, "\(result.stdout)")
    let replay = try #require(lines.last)
    #expect(replay.hasPrefix("replay: "), "\(result.stdout)")
    for setting in ["churn", "--vcpus 1", "--seed 5", "--duration 0.02", "--flavor memb"] {
      #expect(replay.contains(setting), "\(replay)")
    }
    // The replay line parses as the same settings.
    let words = replay.dropFirst("replay: ".count).split(separator: " ").dropFirst().map(
      String.init)
    let again = try runStress(words, environment: ["STRESS_PARSE_ONLY": "1"])
    #expect(again.status == 0, "\(again.stderr)")
  }

  @Test func faultsListsOnlyWhatOnlySelects() throws {
    let result = try runStress(["faults", "--list", "--only", "torture/nesting-bug"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("torture/nesting-bug"))
    #expect(!result.stdout.contains("churn/"), "\(result.stdout)")
  }

  @Test func aNegativeDurationSaysWhatIsWrong() throws {
    for arguments in [["churn", "--duration", "-1"], ["churn", "--duration=-1"]] {
      let result = try runStress(arguments)
      #expect(result.stderr.contains("--duration must be a positive number"), "\(result.stderr)")
    }
  }

  @Test func aRunTooShortToJudgeExitsInconclusive() throws {
    let result = try runStress(["churn", "--duration", "0.02"])
    #expect(result.status == 2)
    #expect(result.stdout.contains("result: INCONCLUSIVE"), "\(result.stdout)")
  }

  /// A broken flavor is always a violation (exit 1) with a JSON report, whether a check
  /// fired or a reader crashed on reclaimed memory. (Under AddressSanitizer the sanitizer
  /// reports the use after free itself and exits 1 first.)
  @Test(arguments: 1...5)
  func aBrokenFlavorAlwaysExitsOne(seed: Int) throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let json = folder.appendingPathComponent("report.json")
    let result = try runStress([
      "churn", "--flavor", "broken", "--duration", "5", "--seed", "\(seed)", "--json", json.path,
    ])
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
    if !underAddressSanitizer {
      #expect(try jsonVerdict(at: json).verdict == "violations")
    }
  }

  @Test func aBrokenFlavorUnderRealGuestsIsCaught() throws {
    guard kvm != nil else { return }
    let result = try runStress(["kvm", "--flavor", "broken", "--duration", "5"])
    #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
  }
}
