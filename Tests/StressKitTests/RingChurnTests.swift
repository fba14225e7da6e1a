import ConcurrentBus
import Testing

@testable import StressKit

/// Churn with value rings, driven through the engine: correct flavors (QSBR included) are
/// clean with ring work done, each ring fault is caught by the detector the catalogue names
/// for it, an overflow is reported as a shortfall, and ring work counts towards the verdict.
@Suite("Ring churn", .serialized)
struct RingChurnTests {
  static func run(
    _ flavor: FlavorChoice = .shipped(.memb), fault: ChurnFault = .none, every: Int = 1,
    seconds: Double = 3, rings: Int = 8, capacity: Int = ChurnConfiguration.defaultRingCapacity,
    seed: UInt64 = 1, minimumWorkWithin: Double = 0
  ) throws -> ChurnReport {
    try ChurnConfiguration(
      vcpus: 2, duration: seconds, rings: rings, ringCapacity: capacity, flavor: flavor,
      fault: fault, faultEvery: every, seed: seed, minimumWorkWithin: minimumWorkWithin
    ).run()
  }

  /// QSBR here; memb and bp run with the default rings in `ChurnEngineTests`.
  @Test(arguments: [FlavorChoice.shipped(.qsbr)])
  func aCorrectFlavorIsCleanWithEveryRingValueDelivered(flavor: FlavorChoice) throws {
    // A run starved of CPU says inconclusive (a shortfall): another seed, at most three.
    let report = try attempts(limit: 3, budget: .seconds(120)) {
      $0.outcome.verdict != .inconclusive
    } _: { index in
      try Self.run(flavor, seed: 1 + UInt64(index), minimumWorkWithin: 60)
    }.last!
    #expect(report.outcome.verdict == .clean, "\(report.text)")
    let rings = try #require(report.rings)
    #expect(rings.valuesDelivered == rings.valuesClaimed)
    #expect(rings.valuesLost == 0)
    #expect(rings.moves > 0 && rings.asyncSequenceRings > 0)
    #expect(rings.ringsReconciled == rings.registrations)
  }

  @Test(arguments: FaultCatalogue.ring)
  func eachRingFaultIsCaughtByItsDetector(fault: CatalogueFault) throws {
    let churnFault = try #require(ChurnFault(rawValue: fault.name))
    let every = fault.arguments.firstIndex(of: "--fault-every").map {
      Int(fault.arguments[$0 + 1])!
    }
    let reports = try attempts(limit: 3) {
      fault.isCaught(by: $0.violations.map(\.kind.rawValue))
    } _: { index in
      try Self.run(fault: churnFault, every: every ?? 1, seconds: 10, seed: 1 + UInt64(index))
    }
    let report = reports.last!
    let texts = reports.map(\.text).joined(separator: "\n")
    #expect(report.outcome.verdict == .violations, "\(texts)")
    #expect(fault.isCaught(by: report.violations.map(\.kind.rawValue)), "\(texts)")
  }

  /// A lane that fills up is the ring keeping its promise (the loss reported in place)
  /// while the tool's consumer is behind: never silent, never a violation.
  @Test func aLaneTooSmallForItsConsumerIsAShortfallNeverSilent() throws {
    let report = try Self.run(capacity: 2)
    #expect(report.violations.isEmpty, "\(report.text)")
    #expect(report.shortfalls.contains { $0.kind == .checker }, "\(report.text)")
    #expect(report.outcome.verdict == .inconclusive)
  }

  @Test func ringWorkIsPartOfTheMinimum() throws {
    let rings = try Self.run(seconds: 0.02)
    #expect(rings.work.contains { $0.name == "ring values delivered for the slowest vCPU" })
    #expect(rings.outcome.verdict == .inconclusive)
    let none = try Self.run(seconds: 0.02, rings: 0)
    #expect(none.rings == nil)
    #expect(!none.work.contains { $0.name.hasPrefix("ring") })
  }

  @Test func ringOptionsOutOfRangeAreRefused() {
    let refused = [
      ChurnConfiguration(vcpus: 1, duration: 1, rings: 0, fault: .ringDrop),
      ChurnConfiguration(vcpus: 1, duration: 1, rings: RingLayout.maximumSlots + 1),
      ChurnConfiguration(vcpus: 1, duration: 1, rings: -1),
      ChurnConfiguration(vcpus: 1, duration: 1, ringCapacity: 1),
      ChurnConfiguration(vcpus: 1, duration: 1, ringCapacity: 65537),
    ]
    for configuration in refused {
      #expect(throws: OptionError.self) { try configuration.validate() }
    }
    #expect(throws: Never.self) {
      try ChurnConfiguration(vcpus: 1, duration: 1, rings: 0).validate()
    }
  }
}
