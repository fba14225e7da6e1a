import ArgumentParser
import Foundation
import StressKit

/// Entry point. ArgumentParser's own exit codes are replaced with the tool's contract:
/// 0 clean, 1 violations found, 2 bad usage or setup failure.
@main
enum StressMain {
  static func main() {
    do {
      var command = try Stress.parseAsRoot()
      try command.run()
      exit(ExitStatus.clean.rawValue)
    } catch let status as ExitStatus {
      exit(status.rawValue)
    } catch let failure as SetupFailure {
      FileHandle.standardError.write(Data("stress: \(failure.message)\n".utf8))
      exit(ExitStatus.setupFailure.rawValue)
    } catch {
      let code = Stress.exitCode(for: error)
      let message = Stress.fullMessage(for: error)
      if code == .success {
        print(message)
        exit(ExitStatus.clean.rawValue)
      }
      FileHandle.standardError.write(Data("\(message)\n".utf8))
      exit(ExitStatus.setupFailure.rawValue)
    }
  }
}

/// The root command.
struct Stress: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stress",
    abstract: "Hammers a ConcurrentBus from many vCPU threads while devices come and go.",
    discussion: """
      Exit status: 0 when every check held, 1 when a violation was found, 2 for bad usage \
      or a setup failure.
      """,
    subcommands: [
      ChurnCommand.self, TortureCommand.self, FaultsCommand.self, KVMCommand.self,
      BenchCommand.self,
    ],
    defaultSubcommand: ChurnCommand.self
  )
}

/// The tool's exit statuses.
enum ExitStatus: Int32, Error {
  case clean = 0
  case violations = 1
  case setupFailure = 2
}
