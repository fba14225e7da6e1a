import ArgumentParser
import Foundation
import StressKit

/// Entry point. ArgumentParser's own exit codes are replaced with the tool's contract:
/// 0 clean, 1 violations found, 2 inconclusive, bad usage or setup failure.
///
/// With `STRESS_PARSE_ONLY=1` in the environment, the arguments are parsed and validated
/// (each command's `validate()`) and nothing runs: `parses: ARGS` and exit 0, or the usage
/// error and exit 2. `Scripts/check-docs.sh` uses it to check the command lines the docs show.
@main
enum StressMain {
  static func main() {
    // Every run's time budget counts from here: parsing and setup are part of the run.
    RunBudget.markProcessStart()
    do {
      var command = try Stress.parseAsRoot()
      if ProcessInfo.processInfo.environment["STRESS_PARSE_ONLY"] == "1" {
        print("parses: \(CommandLine.arguments.dropFirst().joined(separator: " "))")
        exit(ExitStatus.clean.code)
      }
      try command.run()
      exit(ExitStatus.clean.code)
    } catch let status as ExitStatus {
      exitAfterReport(status.code)
    } catch let failure as SetupFailure {
      FileHandle.standardError.write(Data("stress: \(failure.message)\n".utf8))
      exit(ExitStatus.setupFailure.code)
    } catch let failure as OptionError {
      FileHandle.standardError.write(Data("stress: \(failure.message)\n".utf8))
      exit(ExitStatus.setupFailure.code)
    } catch {
      let code = Stress.exitCode(for: error)
      let message = Stress.fullMessage(for: error)
      if code == .success {
        print(message)
        exit(ExitStatus.clean.code)
      }
      FileHandle.standardError.write(Data("\(message)\n".utf8))
      exit(ExitStatus.setupFailure.code)
    }
  }
}

/// Ends the process with `code` once the report is out. A run that abandoned stalled
/// threads (`StallWatchdog`) ends with `_exit`: a stuck thread may hold a lock that an exit
/// handler (liburcu's, say) would wait for.
func exitAfterReport(_ code: Int32) -> Never {
  guard StallWatchdog.threadsAbandoned else { exit(code) }
  fflush(nil)
  _exit(code)
}

/// The root command.
struct Stress: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stress",
    abstract: "Hammers a ConcurrentBus from many vCPU threads while devices come and go.",
    discussion: """
      Exit status: 0 when every check held after enough work to judge (clean), 1 when a \
      violation was found, 2 when the run did too little to judge (inconclusive), for bad \
      usage, or for a setup failure.
      """,
    subcommands: [
      ChurnCommand.self, TortureCommand.self, LitmusCommand.self, FaultsCommand.self,
      KVMCommand.self, VhostCommand.self, BenchCommand.self,
    ],
    defaultSubcommand: ChurnCommand.self
  )
}

/// The tool's exit status, thrown to end a command.
struct ExitStatus: Error {
  /// The process exit status.
  let code: Int32

  /// Every check held.
  static let clean = ExitStatus(code: 0)
  /// A violation was found.
  static let violations = ExitStatus(code: 1)
  /// Bad usage, a setup failure, or an inconclusive run.
  static let setupFailure = ExitStatus(code: 2)
}
