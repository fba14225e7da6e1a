import ConcurrentBus
import Glibc
import KVM
import KVMGuests
import RCU
import StressKit
import Synchronization
import Testing

/// Answers every read with `value + offset` and never claims writes.
private final class ReadDevice: IODevice {
  let value: UInt64
  init(value: UInt64) { self.value = value }
  func read(offset: UInt64, size: Int) -> UInt64? { value &+ offset }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { false }
}

@Suite(
  "Guest exits through the bus",
  .enabled(
    if: kvmUnavailableReason == nil, Comment(rawValue: kvmUnavailableReason ?? "needs /dev/kvm"))
)
struct BusExitTests {
  static let mmio: UInt64 = 0xD000_0000

  /// Writes of every PIO and MMIO size, each with a matched and unmatched value, and
  /// reads from devices (and one unclaimed read of each kind).
  static func program(iterations: Int, salt: UInt64) -> GuestProgram {
    GuestProgram(
      iterations: iterations,
      accesses: [
        .portWrite(port: 0x1000, size: 1, values: [0x11, 0x22, 0x33]),
        .portWrite(port: 0x1002, size: 2, values: [0xBEEF, 0x1234]),
        .portWrite(port: 0x1004, size: 4, values: [0xDEAD_BEEF, 0x0BAD_F00D + salt]),
        .mmioWrite(address: mmio, size: 1, values: [0x7F, 0x80]),
        .mmioWrite(address: mmio + 0x10, size: 2, values: [0xCAFE, 0x0001, 0xFFFF]),
        .mmioWrite(address: mmio + 0x20, size: 4, values: [0x8765_4321, 0x1111_1111]),
        .mmioWrite(
          address: mmio + 0x40, size: 8, values: [0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210]),
        .portRead(port: 0x2000, size: 1),
        .portRead(port: 0x2004, size: 4),
        .mmioRead(address: mmio + 0x1000, size: 2),
        .mmioRead(address: mmio + 0x1008, size: 8),
        .portRead(port: 0x3000, size: 2),
        .mmioRead(address: mmio + 0x8000, size: 4),
      ])
  }

  /// The (space, address, size, value) keys given an eventfd on the bus.
  static let matched: [GuestWrite] = [
    GuestWrite(space: .pio, address: 0x1000, size: 1, value: 0x22),
    GuestWrite(space: .pio, address: 0x1002, size: 2, value: 0xBEEF),
    GuestWrite(space: .pio, address: 0x1004, size: 4, value: 0xDEAD_BEEF),
    GuestWrite(space: .mmio, address: mmio, size: 1, value: 0x80),
    GuestWrite(space: .mmio, address: mmio + 0x10, size: 2, value: 0xFFFF),
    GuestWrite(space: .mmio, address: mmio + 0x20, size: 4, value: 0x8765_4321),
    GuestWrite(space: .mmio, address: mmio + 0x40, size: 8, value: 0xFEDC_BA98_7654_3210),
  ]

  struct Setup {
    let run: GuestRun
    let portBus = IOBus()
    let mmioBus = IOBus()
    var eventFDs: [GuestWrite: ConcurrentBus.EventFD] = [:]
  }

  func makeSetup(programs: [GuestProgram], mirrored: Bool) throws -> (Setup, [MirroredRegistration])
  {
    var setup = Setup(run: try GuestRun(system: system(), programs: programs))
    _ = try setup.portBus.register(ReadDevice(value: 0xA1A2_A3A4), base: 0x2000, length: 8)
    _ = try setup.mmioBus.register(
      ReadDevice(value: 0xB1B2_B3B4_B5B6_B7B8), base: Self.mmio + 0x1000, length: 0x10)
    let mirror = KernelIOEventFDMirror(
      vm: setup.run.vm, portBus: setup.portBus, mmioBus: setup.mmioBus)
    var mirroredRegistrations: [MirroredRegistration] = []
    for key in Self.matched {
      let eventFD = try ConcurrentBus.EventFD()
      setup.eventFDs[key] = eventFD
      if mirrored {
        mirroredRegistrations.append(
          try mirror.register(
            eventFD, space: key.space, address: key.address, size: key.size,
            match: .value(key.value)))
      } else {
        _ = try (key.space == .pio ? setup.portBus : setup.mmioBus).registerEventFD(
          eventFD, address: key.address, size: key.size, match: .value(key.value))
      }
    }
    return (setup, mirroredRegistrations)
  }

  /// Runs every vCPU with its own handler and checks drained + unclaimed == executed
  /// per key, matched keys only in eventfds, and every read result.
  func runAndCheck(_ setup: Setup, expectAbsorbed: Bool) throws {
    let handlers = setup.run.vcpus.map { _ in
      BusExitHandler(portBus: setup.portBus, mmioBus: setup.mmioBus)
    }
    let statistics = try setup.run.run(handlers: handlers)
    var executed: [GuestWrite: Int] = [:]
    for program in setup.run.programs {
      executed.merge(program.expectedWrites(), uniquingKeysWith: +)
    }
    let unclaimed = mergedUnclaimedWrites(handlers)
    for key in Set(executed.keys).union(unclaimed.keys) {
      let drained = Int(setup.eventFDs[key]?.drain() ?? 0)
      if Self.matched.contains(key) {
        #expect(drained == executed[key], "\(key)")
        #expect(unclaimed[key] == nil, "\(key)")
      } else {
        #expect(unclaimed[key] == executed[key], "\(key)")
      }
    }
    let writes = executed.values.reduce(0, +)
    let writeExits = zip(statistics, setup.run.programs).map { vcpu, program in
      vcpu.ioExits + vcpu.mmioExits - program.iterations * 6
    }.reduce(0, +)
    if expectAbsorbed {
      let matchedWrites = Self.matched.map { executed[$0] ?? 0 }.reduce(0, +)
      #expect(writeExits == writes - matchedWrites)
    } else {
      #expect(writeExits == writes)
    }
    for vcpu in setup.run.vcpus.indices {
      let expected: [(access: Int, value: UInt64)] = [
        (7, 0xA4), (8, 0xA1A2_A3A8), (9, 0xB7B8), (10, 0xB1B2_B3B4_B5B6_B7C0), (11, 0xFFFF),
        (12, 0xFFFF_FFFF),
      ]
      for (access, value) in expected {
        #expect(try setup.run.readResult(vcpu: vcpu, access: access) == value, "access \(access)")
      }
    }
  }

  @Test func oneVCPUExactCountsThroughTheBus() throws {
    let (setup, _) = try makeSetup(
      programs: [Self.program(iterations: 600, salt: 0)], mirrored: false)
    try runAndCheck(setup, expectAbsorbed: false)
  }

  @Test func twoVCPUsExactCountsThroughTheBus() throws {
    let limit = try system().recommendedVCPUCount()
    try #require(limit >= 2, "KVM_CAP_NR_VCPUS is \(limit)")
    let (setup, _) = try makeSetup(
      programs: [Self.program(iterations: 600, salt: 0), Self.program(iterations: 900, salt: 1)],
      mirrored: false)
    try runAndCheck(setup, expectAbsorbed: false)
  }

  @Test func mirroredRegistrationsStayInTheKernelUntilUnregistered() throws {
    let limit = try system().recommendedVCPUCount()
    let programs = (0..<min(2, limit)).map {
      Self.program(iterations: 500 + 100 * $0, salt: UInt64($0))
    }
    let (setup, mirrored) = try makeSetup(programs: programs, mirrored: true)
    try runAndCheck(setup, expectAbsorbed: true)

    let mirror = KernelIOEventFDMirror(
      vm: setup.run.vm, portBus: setup.portBus, mmioBus: setup.mmioBus)
    for registration in mirrored { try mirror.unregister(registration) }
    let handlers = setup.run.vcpus.map { _ in
      BusExitHandler(portBus: setup.portBus, mmioBus: setup.mmioBus)
    }
    _ = try setup.run.run(handlers: handlers)
    var executed: [GuestWrite: Int] = [:]
    for program in programs { executed.merge(program.expectedWrites(), uniquingKeysWith: +) }
    #expect(mergedUnclaimedWrites(handlers) == executed)
    for key in Self.matched { #expect(setup.eventFDs[key]!.drain() == 0, "\(key)") }
    #expect(setup.portBus.registrations.count == 1)
    #expect(setup.mmioBus.registrations.count == 1)
  }

  @Test func kernelRefusalUndoesTheBusRegistration() throws {
    let run = try GuestRun(system: system(), programs: [GuestProgram(iterations: 0, accesses: [])])
    let portBus = IOBus()
    let mirror = KernelIOEventFDMirror(vm: run.vm, portBus: portBus, mmioBus: IOBus())
    let outside = try ConcurrentBus.EventFD()
    let binding = IOEventFDAssignment(
      eventFD: outside.descriptor, address: 0x1000, length: 1, space: .pio, datamatch: 0x22)
    try run.vm.assign(binding)
    let eventFD = try ConcurrentBus.EventFD()
    #expect(throws: KernelMirrorError.kernel(.ioctl(name: "KVM_IOEVENTFD", errno: EEXIST))) {
      try mirror.register(eventFD, space: .pio, address: 0x1000, size: 1, match: .value(0x22))
    }
    #expect(portBus.registrations.isEmpty)
    // A collision on the bus never reaches the kernel.
    try run.vm.deassign(binding)
    let first = try mirror.register(eventFD, space: .pio, address: 0x1000, size: 1, match: .any)
    #expect(throws: KernelMirrorError.self) {
      try mirror.register(outside, space: .pio, address: 0x1000, size: 1, match: .value(1))
    }
    try mirror.unregister(first)
    #expect(portBus.registrations.isEmpty)
    #expect(
      throws: KernelMirrorError.kernel(
        .ioctl(name: "KVM_IOEVENTFD(deassign)", errno: ENOENT))
    ) { try mirror.unregister(first) }
  }
}
