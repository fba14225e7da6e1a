import ArgumentParser

/// `stress torture`: an rcutorture-style check of the RCU layer alone.
struct TortureCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "torture")

  @OptionGroup var common: CommonOptions

  func run() throws {
    throw SetupFailure(message: "torture is being written")
  }
}
