import ConcurrentBus
import KVM
import Testing

@testable import StressKit

/// `stress kvm --coalesced` with real guests (skipped without /dev/kvm): every sequenced
/// value delivered once and in order while coalesced ranges move in and out of the kernel,
/// on QSBR too, and every coalesced fault of the catalogue caught by its detector.
@Suite("Coalesced guest churn (KVM)", .serialized, .enabled(if: kvm != nil, "needs /dev/kvm"))
struct CoalescedChurnTests {
  static func configuration(
    _ system: KVMSystem, seconds: Int, flavor: FlavorChoice = .shipped(.memb),
    kernelIOEventFD: Bool = false,
    fault: GuestFault = .none, faultEvery: Int? = nil, seed: UInt64 = 3,
    minimumWorkWithin: Duration = .zero
  ) throws -> GuestChurnConfiguration {
    var configuration = GuestChurnConfiguration(
      duration: .seconds(seconds), vcpus: min(2, try system.recommendedVCPUCount()),
      kernelIOEventFD: kernelIOEventFD, flavor: flavor, seed: seed, coalesced: true,
      fault: fault, faultEvery: faultEvery)
    configuration.minimumWorkWithin = minimumWorkWithin
    return configuration
  }

  @Test(
    "every coalesced value once, in order, while zones move in and out",
    arguments: [
      (FlavorChoice.shipped(.memb), false), (.shipped(.qsbr), false), (.shipped(.qsbr), true),
    ])
  func everyValueOnceInOrder(flavor: FlavorChoice, kernelIOEventFD: Bool) throws {
    let system = try #require(kvm)
    let report = try GuestChurn.run(
      system: system,
      configuration: Self.configuration(
        system, seconds: 4, flavor: flavor, kernelIOEventFD: kernelIOEventFD,
        minimumWorkWithin: .seconds(60)))
    #expect(report.violations.isEmpty, "\(report.text)")
    let coalesced = try #require(report.coalesced)
    #expect(coalesced.delivered == coalesced.sequencedWrites)
    #expect(coalesced.ringEntries > 0 && coalesced.unclaimed > 0)
    #expect(coalesced.zoneRegistrations > 0 && coalesced.zoneUnregistrations > 0)
    #expect(coalesced.busOnlyRegistrations > 0)
    #expect(coalesced.ownRangeDrains > 0)
    // The verdict needs release-build speed to reach every minimum in a few seconds:
    // Scripts/check-stress.sh checks it.
    #expect(report.outcome.verdict != .violations)
  }

  @Test(
    "each coalesced fault is caught by a detector the catalogue names",
    arguments: GuestFault.allCases.filter(\.needsCoalesced))
  func coalescedFaultIsCaught(fault: GuestFault) throws {
    let system = try #require(kvm)
    let entry = try #require(FaultCatalogue.entry(command: "kvm", name: fault.rawValue))
    let reports = try attempts(limit: 3) {
      entry.isCaught(by: $0.violations.map(\.kind.rawValue))
    } _: { index in
      try GuestChurn.run(
        system: system,
        configuration: Self.configuration(
          system, seconds: 10, fault: fault, seed: 3 + UInt64(index)))
    }
    let report = reports.last!
    let kinds = report.violations.map(\.kind.rawValue)
    #expect(entry.isCaught(by: kinds), "\(reports.map(\.text).joined(separator: "\n"))")
    #expect(report.outcome.verdict == .violations)
  }

  @Test("every kvm fault has exactly one catalogue entry")
  func everyFaultIsCatalogued() {
    let names = FaultCatalogue.kvm.map(\.name).filter { $0 != "broken-flavor" }
    #expect(names.count == Set(names).count)
    #expect(Set(names) == Set(GuestFault.allCases.filter { $0 != .none }.map(\.rawValue)))
    #expect(FaultCatalogue.kvm.allSatisfy { $0.arguments.contains("--coalesced") })
  }

  @Test("a skipped grace period is caught with QSBR readers offline in KVM_RUN")
  func skippedGracePeriodOnQSBR() throws {
    let system = try #require(kvm)
    let report = try GuestChurn.run(
      system: system,
      configuration: Self.configuration(
        system, seconds: 10, flavor: .shipped(.qsbr), fault: .skipGracePeriod, faultEvery: 100))
    #expect(report.violations.map(\.kind).contains(.staleSection), "\(report.text)")
  }
}

/// `kvm --coalesced`'s options, checked before anything runs (no KVM needed).
@Suite("Coalesced options")
struct CoalescedOptionTests {
  @Test("coalesced faults need --coalesced; skip-grace-period needs an early release")
  func faultOptionsAreChecked() {
    let base = GuestChurnConfiguration(duration: .seconds(1), vcpus: 1)
    for fault in GuestFault.allCases where fault.needsCoalesced {
      var configuration = base
      configuration.fault = fault
      #expect(throws: OptionError.self) { try configuration.validate() }
      configuration.coalesced = true
      #expect(throws: Never.self) { try configuration.validate() }
    }
    var skip = base
    skip.fault = .skipGracePeriod
    skip.kernelIOEventFD = true
    #expect(throws: OptionError.self) { try skip.validate() }
    skip.coalesced = true
    #expect(throws: Never.self) { try skip.validate() }
    var wrong = base
    wrong.coalescedRanges = 0
    #expect(throws: OptionError.self) { try wrong.validate() }
    wrong.coalescedRanges = 1
    wrong.faultEvery = 0
    #expect(throws: OptionError.self) { try wrong.validate() }
  }

  @Test("the CLI refuses a coalesced fault without --coalesced, before opening KVM")
  func cliRefusesAFaultWithoutCoalesced() throws {
    let result = try runStress(["kvm", "--fault", "drop-coalesced", "--duration", "1"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--coalesced"))
  }
}
