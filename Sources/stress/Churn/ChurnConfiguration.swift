import ArgumentParser

/// A deliberate bug to inject, to prove the checks catch it.
enum ChurnFault: String, ExpressibleByArgument, CaseIterable, Codable {
  case none
  /// Unregister returns (and the tool poisons) without waiting for a grace period.
  case skipGracePeriod = "skip-grace-period"
  /// The writer's copy occasionally leaves out one unrelated entry.
  case dropEntry = "drop-entry"
  /// The eventfd is closed before the grace period after its unregister.
  case earlyClose = "early-close"
}

/// Everything a churn run was asked to do.
struct ChurnConfiguration: Codable {
  var vcpus: Int
  var hotplug: Int
  var consumers: Int
  var duration: Double
  var devices: Int
  var churnDevices: Int
  var flavor: FlavorChoice
  var fault: ChurnFault
  var seed: UInt64
}

/// What the vCPU, hotplug and consumer threads count, one shard per thread.
enum ChurnCounter: Int, CaseIterable {
  case dispatches
  case claimed
  case unclaimed
  case singleUpdates
  case batchedUpdates
  case registrations
  case synchronousUnregisters
  case deferredUnregisters
}
