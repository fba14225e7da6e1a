import ArgumentParser

/// `stress churn`: vCPU threads dispatch while hotplug threads churn registrations.
struct ChurnCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "churn")

  @OptionGroup var common: CommonOptions

  func run() throws {
    throw SetupFailure(message: "churn is being written")
  }
}
