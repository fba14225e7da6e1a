import ConcurrentBus
import Glibc
import HostSupport
import KVM
import KVMGuests
import Synchronization
import Testing

/// The run loop on liburcu's QSBR flavor, which aborts the process on a read from a thread
/// that is not registered and online: these pass only if every dispatch (on a vCPU, or a
/// drain off one) happens online, and grace periods do not wait for a vCPU in the guest.
@Suite(
  "vCPUs on QSBR",
  .enabled(
    if: coalescingUnavailableReason == nil,
    Comment(rawValue: coalescingUnavailableReason ?? "needs /dev/kvm and coalesced MMIO"))
)
struct QSBRTests {
  @Test func aGracePeriodDoesNotWaitForAVCPUInTheGuest() throws {
    let portBus = IOBus(flavor: QSBRRCU.self)
    let handler = BusExitHandler(portBus: portBus, mmioBus: IOBus(flavor: QSBRRCU.self))
    // One dispatch (an `out` the bus claims), then the vCPU stays in the guest.
    let guest = try ParkedGuest(prologue: [0x66, 0xBA, 0x00, 0x10, 0xEE])  // mov dx; out dx, al
    let device = SequenceCheckingDevice(check: SequenceCheck(writers: 1))
    let registration = try portBus.register(device, base: 0x1000, length: 1)
    try guest.start(handler: handler)
    // On another thread, so a vCPU wrongly online in the guest cannot hang the test: it
    // would hold the grace period until the guest is released below.
    let unregistered = Atomic<Bool>(false)
    let writer = try HostThread {
      try? portBus.unregister(registration)
      unregistered.store(true, ordering: .releasing)
    }
    var waited = 0
    while !unregistered.load(ordering: .acquiring) && waited < 5_000 {
      usleep(1_000)
      waited += 1
    }
    let returnedWhileInGuest = unregistered.load(ordering: .acquiring) && !guest.hasHalted
    let statistics = try guest.release()
    writer.join()
    #expect(returnedWhileInGuest, "the unregister waited \(waited) ms for the guest")
    #expect(device.writeCount == 1)
    #expect(statistics.exits == 2)
  }

  @Test func coalescedWritesChurnOnQSBR() throws {
    let report = try coalescedChurn(
      flavor: QSBRRCU.self, vcpus: min(2, try system().recommendedVCPUCount()),
      iterations: 30_000, seed: 5)
    #expect(report.violations == [])
    #expect(report.appliedOffVCPU > 0, "unregisters drained off the vCPU threads")
    #expect(report.drainedOnVCPUs > 0)
    #expect(report.exitsDispatched > 0)
  }
}
