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
  ])
  func badOptionsAreRefusedUpFront(arguments: [String]) throws {
    let result = try runStress(arguments, timeout: 30)
    #expect(result.status == 2, "\(arguments): \(result.stderr)")
    #expect(!result.stderr.isEmpty)
    #expect(result.seconds < 10, "refused before any work")
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
