import ConcurrentBus
import Glibc
import KVM
import KVMGuests
import Synchronization
import Testing

/// Answers reads with the last value written, and checks at each read that every write the
/// guest made before it has been applied: iteration `k` writes sequence numbers `2k` (MMIO)
/// and `2k + 1` (port) and then reads, so read `k` must find `2k + 1` last written.
private final class ReadAfterWriteProbe: IODevice {
  let last = Atomic<UInt64>(0)
  let reads = Atomic<Int>(0)
  let staleReads = Atomic<Int>(0)

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    last.store(value, ordering: .relaxed)
    return true
  }

  func read(offset: UInt64, size: Int) -> UInt64? {
    let value = last.load(ordering: .relaxed)
    let k = reads.add(1, ordering: .relaxed).oldValue
    if SequencedValue(decoding: value, size: 4)?.sequence != UInt32(2 * k + 1) {
      staleReads.add(1, ordering: .relaxed)
    }
    return value
  }
}

@Suite(
  "Coalesced MMIO and PIO through the bus",
  .enabled(
    if: coalescingUnavailableReason == nil,
    Comment(rawValue: coalescingUnavailableReason ?? "needs coalesced MMIO"))
)
struct CoalescedTests {
  static let mmio: UInt64 = 0xD000_0000
  static let port: UInt64 = 0x1000

  static func target(_ space: GuestAddressSpace) -> GuestProgram.SequencedWrite {
    space == .pio ? .init(space: .pio, address: port) : .init(space: .mmio, address: mmio, size: 8)
  }

  struct Rig {
    let run: GuestRun
    let portBus = IOBus()
    let mmioBus = IOBus()
    let mirror: KernelCoalescedMirror<MembRCU>
    let check: SequenceCheck
    let handler: SequenceCheckingHandler<MembRCU>

    init(programs: [GuestProgram]) throws {
      run = try GuestRun(system: system(), programs: programs)
      mirror = try KernelCoalescedMirror(vm: run.vm, portBus: portBus, mmioBus: mmioBus)
      check = SequenceCheck(writers: programs.count)
      handler = SequenceCheckingHandler(portBus: portBus, mmioBus: mmioBus, check: check)
    }

    func runAll() throws -> [RunStatistics] {
      try run.run(handlers: Array(repeating: handler, count: run.vcpus.count))
    }

    func executed() throws -> [Int] {
      try run.vcpus.indices.map { Int(try run.sequenceCounter(vcpu: $0)) }
    }
  }

  @Test(arguments: [GuestAddressSpace.pio, .mmio], [1, 2])
  func coalescedWritesArriveOnceInOrderWithoutAnExit(space: GuestAddressSpace, vcpus: Int) throws {
    let limit = try system().recommendedVCPUCount()
    try #require(vcpus <= limit, "KVM_CAP_NR_VCPUS is \(limit)")
    // 160 writes in all: fewer than the ring's 169 free slots, so none has to exit.
    let programs = (0..<vcpus).map {
      GuestProgram(
        iterations: 160 / vcpus, writer: UInt8($0), sequencedWrites: [Self.target(space)])
    }
    let rig = try Rig(programs: programs)
    let device = SequenceCheckingDevice(check: rig.check)
    let base = space == .pio ? Self.port : Self.mmio
    _ = try rig.mirror.register(device, space: space, base: base, length: 16)
    let statistics = try rig.runAll()
    for vcpu in statistics {
      #expect(vcpu.exits == 1, "only hlt exits")
      #expect(vcpu.ioExits + vcpu.mmioExits == 0)
    }
    #expect(statistics.map(\.drainedCoalescedWrites).reduce(0, +) == 160)
    #expect(device.writeCount == 160)
    #expect(rig.check.finish(executed: try rig.executed()) == [])
    #expect(try rig.executed() == Array(repeating: 160 / vcpus, count: vcpus))
  }

  @Test func aFullRingLetsTheNextWriteExitAndOrderHolds() throws {
    let writes = 20_000
    let rig = try Rig(programs: [
      GuestProgram(iterations: writes, sequencedWrites: [Self.target(.pio)])
    ])
    let device = SequenceCheckingDevice(check: rig.check)
    _ = try rig.mirror.register(device, space: .pio, base: Self.port, length: 4)
    let statistics = try rig.runAll()[0]
    // Drained at every exit, the ring takes `slots - 1` writes and the next one exits.
    let cycle = Int(rig.mirror.ring.slots)
    #expect(statistics.ioExits == writes / cycle)
    #expect(statistics.drainedCoalescedWrites == writes - writes / cycle)
    #expect(device.writeCount == writes)
    #expect(rig.check.finish(executed: [writes]) == [])
  }

  @Test func aReadAfterCoalescedWritesSeesThemApplied() throws {
    let iterations = 3_000
    let rig = try Rig(programs: [
      GuestProgram(
        iterations: iterations,
        sequencedWrites: [
          .init(space: .mmio, address: Self.mmio), .init(space: .pio, address: Self.port),
        ],
        accesses: [.mmioRead(address: Self.mmio + 8, size: 4)])
    ])
    let probe = ReadAfterWriteProbe()
    _ = try rig.mirror.register(probe, space: .mmio, base: Self.mmio, length: 16)
    _ = try rig.mirror.register(probe, space: .pio, base: Self.port, length: 4)
    let statistics = try rig.runAll()[0]
    #expect(probe.reads.load(ordering: .relaxed) == iterations)
    #expect(probe.staleReads.load(ordering: .relaxed) == 0)
    #expect(statistics.mmioExits == iterations, "only the reads exit")
    #expect(statistics.drainedCoalescedWrites == 2 * iterations)
    let lastWrite = SequencedValue(writer: 0, sequence: UInt32(2 * iterations - 1))
    #expect(try rig.run.readResult(vcpu: 0, access: 0) == lastWrite.encoded(size: 4))
  }

  @Test func unregisterAppliesWhatTheKernelBufferedBeforeTheDeviceLeaves() throws {
    // 100 sequenced port writes, then the guest parks without an exit, so the writes stay
    // in the ring for unregister to apply.
    var code: [UInt8] = [0xBE, 0, 0, 0, 0]  // mov esi, 0
    code += [0xB9, 100, 0, 0, 0]  // mov ecx, 100
    code += [0x89, 0xF0, 0x66, 0xBA, 0x00, 0x10, 0xEF]  // mov eax, esi; mov dx, 0x1000; out
    code += [0x46, 0x49, 0x75, 0xF5]  // inc esi; dec ecx; jnz back to mov eax, esi
    let guest = try ParkedGuest(prologue: code)
    let portBus = IOBus()
    let mirror = try KernelCoalescedMirror(vm: guest.vm, portBus: portBus, mmioBus: IOBus())
    let check = SequenceCheck(writers: 1)
    let handler = SequenceCheckingHandler(portBus: portBus, mmioBus: IOBus(), check: check)
    let device = SequenceCheckingDevice(check: check)
    let registration = try mirror.register(device, space: .pio, base: Self.port, length: 4)
    try guest.start(handler: handler)
    let applied = try mirror.unregister(registration, drainingThrough: handler)
    let seenByDevice = device.writeCount
    let statistics = try guest.release()
    #expect(applied == 100)
    #expect(seenByDevice == 100, "every buffered write reached the device before it left")
    #expect(check.finish(executed: [100]) == [])
    #expect(statistics.ioExits == 0)
    #expect(statistics.drainedCoalescedWrites == 0)
  }

  /// The example in README.md, verbatim but for the assert.
  @Test func theReadmeExampleRuns() throws {
    let run = try GuestRun(
      system: KVMSystem(),
      programs: [
        GuestProgram(
          iterations: 1000, sequencedWrites: [.init(space: .mmio, address: 0xD000_0000)])
      ])
    let portBus = IOBus()
    let mmioBus = IOBus()
    let mirror = try KernelCoalescedMirror(vm: run.vm, portBus: portBus, mmioBus: mmioBus)
    let check = SequenceCheck(writers: 1)
    let device = SequenceCheckingDevice(check: check)
    let coalesced = try mirror.register(device, space: .mmio, base: 0xD000_0000, length: 16)
    let statistics = try run.run(handler: BusExitHandler(portBus: portBus, mmioBus: mmioBus))
    // 1000 writes, 6 exits: 5 when the ring is full (169 writes buffered), 1 for hlt.
    try mirror.unregister(coalesced)
    #expect(check.finish(executed: [1000]).isEmpty && statistics[0].exits == 6)
  }

  @Test func zonesMovingInAndOutLoseNothing() throws {
    let vcpus = min(2, try system().recommendedVCPUCount())
    let report = try coalescedChurn(flavor: MembRCU.self, vcpus: vcpus, iterations: 60_000, seed: 3)
    #expect(report.violations == [])
    #expect(report.executed == Array(repeating: 3 * 60_000, count: vcpus))
    #expect(report.registrations >= 20, "the zones moved")
    #expect(report.drainedOnVCPUs > 0, "vCPUs applied buffered writes")
    #expect(report.appliedOffVCPU > 0, "unregisters applied buffered writes")
    #expect(report.exitsDispatched > 0, "writes exited while the zones were out")
  }
}
