/// What ``WriteSideSection`` measured. In JSON each operation's and each way's figures sit
/// under their own key beside `preexisting`.
public struct WriteSideResults: Codable, Sendable, Equatable {
  /// Registrations on the bus before the measured ones.
  public var preexisting: Int
  /// Operations of each kind, and registrations per way.
  public var operations: Int
  /// Each operation's latencies, in nanoseconds; KVM's only when `/dev/kvm` could be opened.
  public var latencies: [WriteSideSection.Operation: SampleSummary] = [:]
  /// Each way of making all the registrations, in nanoseconds, one sample per round.
  public var registrations: [WriteSideSection.Registrations: Spread] = [:]
  /// Why KVM's operations were not measured, if they were not.
  public var kvmUnavailableReason: String?
  /// registerEventFD's latency over KVM_IOEVENTFD assign's, one sample per chunk of 50
  /// (the median of each's i-th registrations); nil when KVM was not measured.
  public var registerOverAssign: Spread?

  /// Nothing measured yet: `operations` of each kind on a bus holding `preexisting`.
  public init(preexisting: Int, operations: Int) {
    self.preexisting = preexisting
    self.operations = operations
  }

  /// Decodes what ``encode(to:)`` wrote.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: JSONKey.self)
    preexisting = try container.decode(Int.self, forKey: JSONKey("preexisting"))
    operations = try container.decode(Int.self, forKey: JSONKey("operations"))
    for operation in WriteSideSection.Operation.allCases {
      latencies[operation] = try container.decodeIfPresent(
        SampleSummary.self, forKey: JSONKey(operation.rawValue))
    }
    for way in WriteSideSection.Registrations.allCases {
      registrations[way] = try container.decodeIfPresent(Spread.self, forKey: JSONKey(way.rawValue))
    }
    kvmUnavailableReason = try container.decodeIfPresent(
      String.self, forKey: JSONKey("kvmUnavailableReason"))
    registerOverAssign = try container.decodeIfPresent(
      Spread.self, forKey: JSONKey("registerOverAssign"))
  }

  /// Encodes every figure under its own key.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: JSONKey.self)
    try container.encode(preexisting, forKey: JSONKey("preexisting"))
    try container.encode(operations, forKey: JSONKey("operations"))
    for (operation, summary) in latencies {
      try container.encode(summary, forKey: JSONKey(operation.rawValue))
    }
    for (way, spread) in registrations {
      try container.encode(spread, forKey: JSONKey(way.rawValue))
    }
    try container.encodeIfPresent(kvmUnavailableReason, forKey: JSONKey("kvmUnavailableReason"))
    try container.encodeIfPresent(registerOverAssign, forKey: JSONKey("registerOverAssign"))
  }
}
