import ConcurrentBus
import KVM
import Testing

@testable import Benchmarks

/// /dev/kvm, or why not.
private let kvm = Result { try KVMSystem() }

extension BenchmarkTests {
  @Suite("stress kvm --compare's measurements")
  struct KVMComparisons {
    @Test(
      "every path sees every guest write, coalesced or not, in both address spaces",
      .enabled(if: (try? kvm.get()) != nil, "/dev/kvm cannot be opened"))
    func everyWriteSeen() throws {
      let system = try kvm.get()
      let exits = try ExitPathComparison.run(
        system: system, flavor: MembRCU.self, iterations: 300, repeats: 2, devices: 2)
      #expect(exits.violations.isEmpty, "\(exits.violations)")
      #expect(exits.busOverBare.median > 0 && exits.kernelOverRaw.median > 0)
      let coalesced = try CoalescedWriteComparison.run(
        system: system, flavor: MembRCU.self, iterations: 300, repeats: 2)
      #expect(coalesced.violations.isEmpty, "\(coalesced.violations)")
      #expect(coalesced.rates.map(\.space) == ["pio", "mmio"])
      let targets = exits.targets + coalesced.targets
      #expect(targets.count == 4, "b/a, c/raw, and coalesced ports and MMIO")
      #expect(targets.allSatisfy { $0.interval != nil }, "judged per repeat")
    }
  }
}
