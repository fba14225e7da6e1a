import Foundation
import Testing

@testable import StressKit

/// Every option is checked before anything starts; each rule here fails with its own
/// message.
@Suite("Option validation")
struct OptionValidationTests {
  static func churn(_ change: (inout ChurnConfiguration) -> Void) -> ChurnConfiguration {
    var configuration = ChurnConfiguration(vcpus: 2, duration: 1)
    change(&configuration)
    return configuration
  }

  @Test func theDefaultsAreValid() throws {
    try Self.churn { _ in }.validate()
    try GuestChurnConfiguration(duration: .seconds(1), vcpus: 1).validate()
  }

  @Test(arguments: [
    (-1.0, "positive"), (0, "positive"), (.nan, "positive"), (.infinity, "positive"),
    (1e308, "at most"), (RunLimits.longestDuration + 1, "at most"),
  ])
  func durationsOutOfRangeAreRefused(seconds: Double, message: String) {
    #expect {
      try Self.churn { $0.duration = seconds }.validate()
    } throws: { error in
      let text = (error as? OptionError)?.message ?? ""
      return text.contains("--duration") && text.contains(message)
    }
  }

  @Test func vCPUsBeyondASaneMultipleOfTheCoresAreRefused() {
    #expect(throws: OptionError.self) { try Self.churn { $0.vcpus = 0 }.validate() }
    #expect(throws: OptionError.self) {
      try Self.churn { $0.vcpus = RunLimits.maximumThreads + 1 }.validate()
    }
    #expect(throws: OptionError.self) { try Self.churn { $0.vcpus = 1024 }.validate() }
    #expect(throws: Never.self) {
      try Self.churn { $0.vcpus = RunLimits.maximumThreads }.validate()
    }
  }

  @Test func churnCountsOutOfRangeAreRefused() {
    let wrong: [(inout ChurnConfiguration) -> Void] = [
      { $0.hotplug = 0 }, { $0.hotplug = 65 },
      {
        $0.churnDevices = 4
        $0.hotplug = 5
      },  // a hotplug thread with no slot
      { $0.consumers = 0 }, { $0.consumers = 65 },
      { $0.devices = 0 }, { $0.devices = ChurnLayout.maximumStableDevices + 1 },
      { $0.churnDevices = 0 }, { $0.churnDevices = ChurnLayout.maximumChurnSlots + 1 },
      { $0.faultEvery = 0 },
    ]
    for change in wrong {
      #expect(throws: OptionError.self) { try Self.churn(change).validate() }
    }
  }

  @Test func theLargestStableWindowFitsBelowTheChurnedEventfds() {
    let last = ChurnLayout.stableAddress(ChurnLayout.maximumStableDevices - 1)
    #expect(last < ChurnLayout.churnEventAddress(0))
  }

  @Test func kvmCountsOutOfRangeAreRefused() {
    let wrong: [GuestChurnConfiguration] = [
      .init(duration: .seconds(-1), vcpus: 1),
      .init(duration: .seconds(1), vcpus: 0),
      .init(duration: .seconds(1), vcpus: 1, hotplugThreads: 0),
      .init(duration: .seconds(1), vcpus: 1, churnDevices: 0),
      .init(duration: .seconds(1), vcpus: 1, stableDevices: -1),
      .init(duration: .seconds(1), vcpus: 1, stableDevices: 1000, churnDevices: 100),
      .init(duration: .seconds(1), vcpus: 1, hotplugThreads: 17, churnDevices: 16),
    ]
    for configuration in wrong {
      #expect(throws: OptionError.self) { try configuration.validate() }
    }
  }

  @Test func aJSONPathIsCheckedBeforeTheRun() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(throws: SetupFailure.self) {
      try JSONDestination(validating: "/nonexistent-\(UUID().uuidString)/report.json")
    }
    #expect(throws: SetupFailure.self) { try JSONDestination(validating: folder.path) }
    #expect(throws: SetupFailure.self) { try JSONDestination(validating: "") }
    _ = try JSONDestination(validating: folder.appendingPathComponent("report.json").path)
    // Checking creates nothing.
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
  }
}
