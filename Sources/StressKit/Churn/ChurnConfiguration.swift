

/// A deliberate bug to inject, to prove the checks catch it.
public enum ChurnFault: String, CaseIterable, Codable, Sendable {
  case none
  /// Unregister returns (and the tool poisons) without waiting for a grace period.
  case skipGracePeriod = "skip-grace-period"
  /// The writer's copy occasionally leaves out one unrelated entry.
  case dropEntry = "drop-entry"
  /// The eventfd is closed before the grace period after its unregister.
  case earlyClose = "early-close"
}

/// Everything a churn run was asked to do.
public struct ChurnConfiguration: Codable, Sendable {
  public var vcpus: Int
  public var hotplug: Int
  public var consumers: Int
  public var duration: Double
  public var devices: Int
  public var churnDevices: Int
  public var flavor: FlavorChoice
  public var fault: ChurnFault
  public var seed: UInt64

  /// A configuration; see the properties.
  public init(
    vcpus: Int, hotplug: Int, consumers: Int, duration: Double, devices: Int, churnDevices: Int,
    flavor: FlavorChoice, fault: ChurnFault, seed: UInt64
  ) {
    self.vcpus = vcpus
    self.hotplug = hotplug
    self.consumers = consumers
    self.duration = duration
    self.devices = devices
    self.churnDevices = churnDevices
    self.flavor = flavor
    self.fault = fault
    self.seed = seed
  }
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
