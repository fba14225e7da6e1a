import ConcurrentBus
import Foundation
import HostSupport
import RCU
import RCUFaultFlavors
import Synchronization
import Testing

/// vCPU threads dispatch into a range device while a hotplug thread swaps it out with
/// synchronous unregisters. On a real flavor this is clean under ThreadSanitizer; on
/// ``BrokenRCU`` the old table and the old device are freed while readers still use them,
/// which TSan must report (Scripts/tsan.sh checks both, to show that CURCU's annotations
/// do not hide a missing grace period).
@Suite("Grace periods under the sanitizers")
struct GracePeriodSanitizerTests {
  @Test("hotplug under dispatch is clean on memb and bp", arguments: ["memb", "bp"])
  func cleanOnRealFlavors(flavor: String) throws {
    if flavor == "memb" {
      try swapUnderDispatch(IOBus(flavor: MembRCU.self), swaps: 300)
    } else {
      try swapUnderDispatch(IOBus(flavor: BulletproofRCU.self), swaps: 300)
    }
  }

  /// Only for Scripts/tsan.sh: frees memory readers are using, so it is expected to fail
  /// (with a TSan report), and may crash without a sanitizer.
  @Test(
    "a flavor without grace periods is reported (run by Scripts/tsan.sh only)",
    .enabled(if: ProcessInfo.processInfo.environment["CONCURRENTBUS_EXPECT_RACE"] == "1"))
  func brokenFlavorUnderSanitizer() throws {
    try swapUnderDispatch(IOBus(flavor: BrokenRCU.self), swaps: 3000)
  }

  func swapUnderDispatch<F: RCUFlavor>(_ bus: IOBus<F>, swaps: Int) throws {
    let stop = Atomic<Bool>(false)
    let claims = Atomic<Int>(0)
    let readers = try (0..<2).map { _ in
      try HostThread {
        F.registerCurrentThread()
        while !stop.load(ordering: .relaxed) {
          if case .claimed = bus.write(address: 0x100, size: 4, value: 1) {
            claims.add(1, ordering: .relaxed)
          }
          _ = bus.read(address: 0x104, size: 2)
        }
        F.unregisterCurrentThread()
      }
    }
    var current = try bus.register(SwapDevice(), base: 0x100, length: 0x10)
    for _ in 0..<swaps {
      try bus.unregister(current)
      current = try bus.register(SwapDevice(), base: 0x100, length: 0x10)
    }
    stop.store(true, ordering: .relaxed)
    for reader in readers { reader.join() }
    try bus.unregister(current)
    F.barrier()
    #expect(bus.retiredSnapshots == 0)
  }
}

/// A device with nothing but an atomic counter, so that the only thing TSan can report in
/// these tests is the bus's own memory.
final class SwapDevice: IODevice {
  private let hits = Atomic<Int>(0)

  func read(offset: UInt64, size: Int) -> UInt64? {
    hits.add(1, ordering: .relaxed)
    return offset
  }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    hits.add(1, ordering: .relaxed)
    return true
  }
}
