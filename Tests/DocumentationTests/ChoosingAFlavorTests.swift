// The listings of ChoosingAFlavor.md, and checks of the rules it states.

import ConcurrentBus
import Dispatch
import Foundation
import HostSupport
import Synchronization
import Testing

// listing: qsbr-vcpu-loop
/// One vCPU thread on QSBR. `enterGuest` stands for KVM_RUN: it runs the guest until its next
/// exit (an MMIO write here), or returns nil when the guest stops.
func runVCPU(
  mmio: IOBus<QSBRRCU>, enterGuest: () -> (address: UInt64, size: Int, value: UInt64)?
) {
  QSBRRCU.registerCurrentThread()  // registered and online: may dispatch
  defer { QSBRRCU.unregisterCurrentThread() }
  while true {
    // The guest may run, or halt, for as long as it likes: offline, this thread holds back
    // no grace period. It holds nothing of the bus here.
    QSBRRCU.threadOffline()
    let exit = enterGuest()
    QSBRRCU.threadOnline()
    guard let exit else { return }
    _ = mmio.write(address: exit.address, size: exit.size, value: exit.value)
  }
}
// end listing

// listing: loaded-rcu
/// A bus on your own RCU implementation: `path` names a shared object that exports the C ABI
/// of `Sources/CRCULibraryABI/include/concurrentbus_rcu.h`.
func busOnMyRCU(path: String) throws -> IOBus<LoadedRCU> {
  try LoadedRCU.load(path: path)  // once per process, before any other use of LoadedRCU
  return IOBus(flavor: LoadedRCU.self)
}
// end listing

/// Runs `body` on a thread of its own; false if it has not returned within `seconds` (it is
/// then left running: the test has failed).
func finishes(within seconds: Double, _ body: @escaping @Sendable () -> Void) throws -> Bool {
  let done = DispatchSemaphore(value: 0)
  _ = try HostThread {
    body()
    done.signal()
  }
  return done.wait(timeout: .now() + seconds) == .success
}

/// Hands out guest exits to a vCPU thread one at a time, when the test says so.
final class GuestScript: Sendable {
  let inGuest = DispatchSemaphore(value: 0)
  let leave = DispatchSemaphore(value: 0)
  let exits: Mutex<[(address: UInt64, size: Int, value: UInt64)]>

  init(_ exits: [(address: UInt64, size: Int, value: UInt64)]) {
    self.exits = Mutex(exits.reversed())
  }

  /// KVM_RUN for the test: waits in "the guest" until the test lets it leave.
  func enterGuest() -> (address: UInt64, size: Int, value: UInt64)? {
    inGuest.signal()
    leave.wait()
    return exits.withLock { $0.popLast() }
  }
}

@Suite("Article: Choosing a flavor")
struct ChoosingAFlavorTests {
  @Test("a bus on each flavor of the article registers, dispatches and unregisters")
  func buses() throws {
    // listing: flavor-buses
    let mmio = IOBus()  // IOBus<MembRCU>: readers on any thread
    let vcpuMMIO = IOBus(flavor: QSBRRCU.self)  // readers: registered vCPU threads only
    let anyThreadPIO = IOBus(flavor: BulletproofRCU.self, space: .portIO)
    // end listing
    let doorbell = try EventFD()
    let onMemb = try mmio.registerEventFD(doorbell, address: 0x1000, size: 4, match: .any)
    let onBP = try anyThreadPIO.register(SerialPort(), base: 0x3F8, length: 8)
    #expect(mmio.write(address: 0x1000, size: 4, value: 0) == .claimed(onMemb.id))
    #expect(anyThreadPIO.read(address: 0x3FD, size: 1) == 0x60)
    try mmio.unregister(onMemb)
    try anyThreadPIO.unregister(onBP)
    #expect(doorbell.drain() == 1)
    // QSBR: writers need no registration; readers do (the thread below).
    let onQSBR = try vcpuMMIO.registerEventFD(doorbell, address: 0x2000, size: 4, match: .any)
    let dispatched = try finishes(within: 10) {
      QSBRRCU.registerCurrentThread()
      _ = vcpuMMIO.write(address: 0x2000, size: 4, value: 0)
      QSBRRCU.unregisterCurrentThread()
    }
    #expect(dispatched)
    try vcpuMMIO.unregister(onQSBR)
    #expect(doorbell.drain() == 1)
  }

  @Test("a QSBR vCPU offline in the guest holds back no grace period; online, it dispatches")
  func qsbrVCPU() throws {
    let mmio = IOBus(flavor: QSBRRCU.self)
    let doorbell = try EventFD()
    _ = try mmio.registerEventFD(doorbell, address: 0x1000, size: 4, match: .any)
    let script = GuestScript([(address: 0x1000, size: 4, value: 1)])
    let vcpu = try HostThread { runVCPU(mmio: mmio, enterGuest: script.enterGuest) }
    script.inGuest.wait()
    // The vCPU is registered, and "in the guest" for as long as the test likes: a synchronous
    // unregister (a grace period) must not wait for it.
    let device = try mmio.register(SerialPort(), base: 0x2000, length: 8)
    let unplugged = try finishes(within: 10) { try? mmio.unregister(device) }
    #expect(unplugged, "a grace period waited for a vCPU in the guest")
    #expect(mmio.gracePeriodWaits == 1)
    script.leave.signal()  // the exit: a write to the doorbell
    script.inGuest.wait()  // dispatched, and back in the guest
    #expect(doorbell.drain() == 1)
    script.leave.signal()  // no more exits: the loop ends
    vcpu.join()
  }

  @Test("on QSBR, a dispatch from a thread that is not registered aborts the process")
  func qsbrUnregisteredDispatchAborts() async {
    await #expect(processExitsWith: .failure) {
      _ = IOBus(flavor: QSBRRCU.self).write(address: 0, size: 1, value: 0)
    }
  }

  @Test("on QSBR, introspection works from any thread and leaves it as it was")
  func qsbrIntrospectionFromAnyThread() throws {
    let bus = IOBus(flavor: QSBRRCU.self)
    let port = try bus.register(SerialPort(), base: 0x3F8, length: 8)
    let thread = try HostThread {
      // Not registered: attached for the read, detached after it.
      #expect(bus.registrations == [port])
      #expect(!QSBRRCU.isInReadSection)
      // Registered and offline: brought online for the read, offline after it.
      QSBRRCU.registerCurrentThread()
      QSBRRCU.threadOffline()
      #expect(bus.device(of: port) != nil)
      QSBRRCU.synchronize()  // would wait for this thread forever had it stayed online
      QSBRRCU.unregisterCurrentThread()
    }
    thread.join()
    try bus.unregister(port)
  }

  @Test("a bus on a loaded RCU library works like any other")
  func loaded() throws {
    let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let library = URL(fileURLWithPath: executable).deletingLastPathComponent()
      .appendingPathComponent("libExampleRCULibrary.so").path
    let bus = try busOnMyRCU(path: library)
    let device = try bus.register(SerialPort(), base: 0x3F8, length: 8)
    #expect(bus.read(address: 0x3FD, size: 1) == 0x60)
    try bus.unregister(device)
    #expect(bus.registrations.isEmpty)
    #expect(LoadedRCU.name.contains("ExampleRCULibrary"))
  }
}
