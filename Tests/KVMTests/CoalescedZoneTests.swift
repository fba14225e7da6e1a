import CKVM
import ConcurrentBus
import Glibc
import KVM
import KVMGuests
import Testing

/// The kernel's zone rules and the mirror's typed errors, checked against the running kernel.
@Suite(
  "Coalesced zones and the mirror's errors",
  .enabled(
    if: coalescingUnavailableReason == nil,
    Comment(rawValue: coalescingUnavailableReason ?? "needs coalesced MMIO"))
)
struct CoalescedZoneTests {
  static let port: UInt64 = 0x1000

  /// Runs 100 plain 4-byte writes to `port` and returns how many exited.
  func exitingWrites(_ run: GuestRun) throws -> Int {
    let handler = RecordingHandler()
    let statistics = try run.run(handler: handler)[0]
    #expect(handler.writes.withLock { $0 } == run.programs[0].expectedWrites())
    return statistics.ioExits
  }

  func makeRun() throws -> GuestRun {
    try GuestRun(
      system: system(),
      programs: [
        GuestProgram(
          iterations: 100, accesses: [.portWrite(port: UInt16(Self.port), size: 4, values: [5, 6])])
      ])
  }

  @Test func zonesOverlapAndAnUnregisterRemovesEveryZoneContainingTheRange() throws {
    let run = try makeRun()
    try run.vm.registerCoalescedZone(CoalescedZone(address: Self.port, size: 4, space: .pio))
    try run.vm.registerCoalescedZone(CoalescedZone(address: Self.port, size: 16, space: .pio))
    #expect(try exitingWrites(run) == 0)
    // Nothing contains it: accepted, changes nothing.
    try run.vm.unregisterCoalescedZone(CoalescedZone(address: 0x5000, size: 4, space: .pio))
    try run.vm.unregisterCoalescedZone(CoalescedZone(address: Self.port, size: 4, space: .mmio))
    #expect(try exitingWrites(run) == 0)
    // Two bytes inside both zones: both go.
    try run.vm.unregisterCoalescedZone(CoalescedZone(address: Self.port + 2, size: 2, space: .pio))
    #expect(try exitingWrites(run) == 100)
  }

  @Test func rangesAZoneCannotHoldAreTypedErrorsThatChangeNothing() throws {
    let run = try makeRun()
    let portBus = IOBus()
    let mmioBus = IOBus()
    let mirror = try KernelCoalescedMirror(vm: run.vm, portBus: portBus, mmioBus: mmioBus)
    let device = SequenceCheckingDevice(check: SequenceCheck(writers: 1))
    for (space, base, length) in [
      (GuestAddressSpace.pio, UInt64(0xFFF8), UInt64(16)), (.mmio, 0xD000_0000, 1 << 32),
    ] {
      #expect {
        try mirror.register(device, space: space, base: base, length: length)
      } throws: { error in
        guard case .kernel(.invalidArgument) = error as? KernelMirrorError else { return false }
        return true
      }
    }
    let kept = try mirror.register(device, space: .pio, base: Self.port, length: 8)
    #expect(
      throws: KernelMirrorError.bus(
        .rangesOverlap(
          .registered(kept.registration), .new(.range(base: Self.port + 4, length: 8))))
    ) {
      try mirror.register(device, space: .pio, base: Self.port + 4, length: 8)
    }
    #expect(throws: KernelMirrorError.bus(.emptyRange)) {
      try mirror.register(device, space: .mmio, base: 0xD000_0000, length: 0)
    }
    #expect(portBus.registrations == [kept.registration])
    #expect(mmioBus.registrations.isEmpty)
    #expect(try exitingWrites(run) == 0)
  }

  @Test func aStaleUnregisterLeavesItsSuccessorsZoneInPlace() throws {
    let run = try makeRun()
    let portBus = IOBus()
    let mirror = try KernelCoalescedMirror(vm: run.vm, portBus: portBus, mmioBus: IOBus())
    let device = SequenceCheckingDevice(check: SequenceCheck(writers: 1))
    let first = try mirror.register(device, space: .pio, base: Self.port, length: 4)
    try mirror.unregister(first)
    #expect(try exitingWrites(run) == 100)
    let second = try mirror.register(device, space: .pio, base: Self.port, length: 4)
    #expect(throws: KernelMirrorError.bus(.unknownRegistration(first.registration))) {
      try mirror.unregister(first)
    }
    #expect(portBus.registrations == [second.registration])
    #expect(try exitingWrites(run) == 0)
  }

  @Test func aZoneTheKernelRefusesUndoesTheBusRegistration() throws {
    let run = try makeRun()
    let mmioBus = IOBus()
    let mirror = try KernelCoalescedMirror(vm: run.vm, portBus: IOBus(), mmioBus: mmioBus)
    // Fill KVM's MMIO bus (1000 devices) with zones made outside the mirror.
    var filler: [CoalescedZone] = []
    var refusal: KVMError?
    while refusal == nil && filler.count < 2_000 {
      let zone = CoalescedZone(
        address: 0xE000_0000 + UInt64(filler.count) * 8, size: 4, space: .mmio)
      do {
        try run.vm.registerCoalescedZone(zone)
        filler.append(zone)
      } catch {
        refusal = error
      }
    }
    #expect(refusal == .ioctl(name: "KVM_REGISTER_COALESCED_MMIO", errno: ENOSPC))
    let device = SequenceCheckingDevice(check: SequenceCheck(writers: 1))
    #expect(throws: KernelMirrorError.kernel(refusal!)) {
      try mirror.register(device, space: .mmio, base: 0xD000_0000, length: 16)
    }
    #expect(mmioBus.registrations.isEmpty)
    for zone in filler { try run.vm.unregisterCoalescedZone(zone) }
    _ = try mirror.register(device, space: .mmio, base: 0xD000_0000, length: 16)
  }
}
