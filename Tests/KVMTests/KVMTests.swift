import CKVM
import Glibc
import KVM
import KVMGuests
import Testing

@Suite(
  "KVM harness",
  .enabled(
    if: kvmUnavailableReason == nil, Comment(rawValue: kvmUnavailableReason ?? "needs /dev/kvm"))
)
struct KVMTests {
  static let mmioBase: UInt64 = 0xD000_0000

  static let mixed = GuestProgram(
    iterations: 1000,
    accesses: [
      .portWrite(port: 0x3F8, size: 1, values: [0x41, 0x42, 0x43]),
      .portWrite(port: 0x500, size: 2, values: [0xBEEF, 0x1234]),
      .portWrite(port: 0x504, size: 4, values: [0xDEAD_BEEF]),
      .mmioWrite(address: mmioBase, size: 1, values: [0x7F, 0x80]),
      .mmioWrite(address: mmioBase + 0x10, size: 2, values: [0xCAFE, 0x0001, 0xFFFF]),
      .mmioWrite(address: mmioBase + 0x20, size: 4, values: [0x8765_4321, 0x0BAD_F00D]),
      .mmioWrite(
        address: mmioBase + 0x40, size: 8,
        values: [0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210, 7]),
      .portRead(port: 0x600, size: 1),
      .portRead(port: 0x602, size: 2),
      .portRead(port: 0x604, size: 4),
      .mmioRead(address: mmioBase + 0x100, size: 1),
      .mmioRead(address: mmioBase + 0x110, size: 2),
      .mmioRead(address: mmioBase + 0x120, size: 4),
      .mmioRead(address: mmioBase + 0x140, size: 8),
    ])

  @Test func realModeReferenceGuestExitsOncePerOut() throws {
    let vm = try system().createVirtualMachine()
    let memory = try vm.addMemory(slot: 0, guestPhysicalAddress: 0x1000, size: 4096)
    let iterations: UInt32 = 50
    let count = withUnsafeBytes(of: iterations.littleEndian) { Array($0) }
    try memory.write(
      [0x66, 0xB9] + count + [0xBA, 0xF8, 0x03, 0xEE, 0x66, 0x49, 0x75, 0xFB, 0xF4], at: 0x1000)
    let vcpu = try vm.createVCPU(id: 0)
    try vcpu.configureRealMode(entry: 0x1000)
    let handler = RecordingHandler()
    let statistics = try vcpu.run(handler: handler)
    #expect(statistics.ioExits == 50)
    #expect(
      handler.writes.withLock { $0 } == [
        GuestWrite(space: .pio, address: 0x3F8, size: 1, value: 0): 50
      ])
  }

  @Test func oneVCPUExactWriteCountsAndReadResults() throws {
    let run = try GuestRun(system: system(), programs: [Self.mixed])
    let handler = RecordingHandler()
    let statistics = try run.run(handler: handler)
    try check(run: run, handler: handler, statistics: statistics)
  }

  @Test func twoVCPUsExactWriteCountsAndReadResults() throws {
    let limit = try system().recommendedVCPUCount()
    try #require(limit >= 2, "KVM_CAP_NR_VCPUS is \(limit)")
    let second = GuestProgram(
      iterations: 1500,
      accesses: [
        .portWrite(port: 0x3F8, size: 1, values: [0x41, 0x44]),
        .portWrite(port: 0x700, size: 4, values: [1, 2, 3, 4]),
        .mmioWrite(address: Self.mmioBase + 0x40, size: 8, values: [0x0123_4567_89AB_CDEF]),
        .mmioWrite(address: Self.mmioBase + 0x1000, size: 2, values: [0x5555]),
        .portRead(port: 0x800, size: 2),
        .mmioRead(address: Self.mmioBase + 0x2000, size: 8),
      ])
    let run = try GuestRun(system: system(), programs: [Self.mixed, second])
    let handler = RecordingHandler()
    let statistics = try run.run(handler: handler)
    try check(run: run, handler: handler, statistics: statistics)
  }

  @Test func ioeventfdAbsorbsMatchingWritesUntilDeassigned() throws {
    let program = GuestProgram(
      iterations: 300,
      accesses: [
        .portWrite(port: 0x900, size: 2, values: [0xAAAA, 0xBBBB, 0xCCCC]),
        .mmioWrite(address: Self.mmioBase, size: 4, values: [0x1111_1111, 0x2222_2222]),
      ])
    let run = try GuestRun(system: system(), programs: [program])
    let portEvent = try EventFD()
    let mmioEvent = try EventFD()
    let portBinding = IOEventFDAssignment(
      eventFD: portEvent.descriptor, address: 0x900, length: 2, space: .pio, datamatch: 0xBBBB)
    let mmioBinding = IOEventFDAssignment(
      eventFD: mmioEvent.descriptor, address: Self.mmioBase, length: 4, space: .mmio,
      datamatch: 0x2222_2222)
    try run.vm.assign(portBinding)
    try run.vm.assign(mmioBinding)

    let absorbed = RecordingHandler()
    _ = try run.run(handler: absorbed)
    #expect(portEvent.take() == 100)
    #expect(mmioEvent.take() == 150)
    var expected = program.expectedWrites()
    expected[GuestWrite(space: .pio, address: 0x900, size: 2, value: 0xBBBB)] = nil
    expected[GuestWrite(space: .mmio, address: Self.mmioBase, size: 4, value: 0x2222_2222)] = nil
    #expect(absorbed.writes.withLock { $0 } == expected)

    try run.vm.deassign(portBinding)
    try run.vm.deassign(mmioBinding)
    let restored = RecordingHandler()
    _ = try run.run(handler: restored)
    #expect(portEvent.take() == 0)
    #expect(mmioEvent.take() == 0)
    #expect(restored.writes.withLock { $0 } == program.expectedWrites())
  }

  @Test func ioeventfdErrorsCarryErrno() throws {
    let run = try GuestRun(system: system(), programs: [GuestProgram(iterations: 0, accesses: [])])
    let event = try EventFD()
    let binding = IOEventFDAssignment(
      eventFD: event.descriptor, address: 0x900, length: 1, space: .pio)
    #expect(throws: KVMError.ioctl(name: "KVM_IOEVENTFD(deassign)", errno: ENOENT)) {
      try run.vm.deassign(binding)
    }
    try run.vm.assign(binding)
    #expect(throws: KVMError.ioctl(name: "KVM_IOEVENTFD", errno: EEXIST)) {
      try run.vm.assign(binding)
    }
    var odd = binding
    odd.length = 3
    #expect(throws: KVMError.self) { try run.vm.assign(odd) }
    try run.vm.deassign(binding)
  }

  @Test func stringIODeliversEachElementInOrder() throws {
    let vm = try system().createVirtualMachine()
    let memory = try vm.addMemory(slot: 0, guestPhysicalAddress: 0x10_0000, size: 4096)
    let source: UInt64 = 0x10_0800
    let destination: UInt64 = 0x10_0900
    try memory.write([0x10, 0x20, 0x30, 0x40, 0x50], at: source)
    var code: [UInt8] = []
    code += [0xBE] + littleEndian(UInt32(source))  // mov esi, source
    code += [0xB9, 5, 0, 0, 0]  // mov ecx, 5
    code += [0x66, 0xBA, 0x00, 0x0A]  // mov dx, 0xA00
    code += [0xF3, 0x6E]  // rep outsb
    code += [0xBF] + littleEndian(UInt32(destination))  // mov edi, destination
    code += [0xB9, 3, 0, 0, 0]  // mov ecx, 3
    code += [0x66, 0xBA, 0x04, 0x0A]  // mov dx, 0xA04
    code += [0xF3, 0x6D]  // rep insd
    code += [0xF4]
    try memory.write(code, at: 0x10_0000)
    let vcpu = try vm.createVCPU(id: 0)
    try vcpu.configureFlatProtectedMode(entry: 0x10_0000)
    let handler = StreamHandler()
    let statistics = try vcpu.run(handler: handler)
    #expect(handler.written.withLock { $0 } == [0x10, 0x20, 0x30, 0x40, 0x50])
    #expect(statistics.portAccesses == 8)
    #expect(statistics.ioExits <= 8)
    for element in 0..<3 {
      #expect(
        try memory.load(at: destination + UInt64(4 * element), size: 4) == 0xA000_0001
          + UInt64(element))
    }
  }

  @Test func mmioOverlappingGuestRAMIsRejected() throws {
    let program = GuestProgram(
      iterations: 1, accesses: [.mmioWrite(address: GuestRun.memoryBase - 4, size: 8, values: [0])])
    #expect(throws: KVMError.self) { try GuestRun(system: system(), programs: [program]) }
  }

  @Test func faultingGuestBecomesTypedUnexpectedExit() throws {
    let vm = try system().createVirtualMachine()
    let memory = try vm.addMemory(slot: 0, guestPhysicalAddress: 0x10_0000, size: 4096)
    try memory.write([0x0F, 0x0B], at: 0x10_0000)  // ud2 with no IDT: triple fault
    let vcpu = try vm.createVCPU(id: 0)
    try vcpu.configureFlatProtectedMode(entry: 0x10_0000)
    #expect(throws: KVMError.unexpectedExit(reason: CKVM_EXIT_SHUTDOWN, detail: 0)) {
      try vcpu.run(handler: RecordingHandler())
    }
  }

  private func check(run: GuestRun, handler: RecordingHandler, statistics: [RunStatistics]) throws {
    var expected: [GuestWrite: Int] = [:]
    for program in run.programs {
      expected.merge(program.expectedWrites(), uniquingKeysWith: +)
    }
    let observed = handler.writes.withLock { $0 }
    #expect(observed == expected)

    for (vcpu, program) in run.programs.enumerated() {
      var exits = 0
      for (index, access) in program.accesses.enumerated() {
        exits += program.iterations
        let key: GuestWrite
        switch access {
        case .portRead(let port, let size):
          key = GuestWrite(space: .pio, address: UInt64(port), size: size, value: 0)
        case .mmioRead(let address, let size):
          key = GuestWrite(space: .mmio, address: address, size: size, value: 0)
        case .portWrite, .mmioWrite: continue
        }
        let totalReads = handler.reads.withLock { $0[key] ?? 0 }
        let readers = run.programs.filter { $0.accesses.contains(access) }.count
        #expect(totalReads == UInt64(program.iterations * readers), "\(key)")
        if readers == 1 {
          let stored = try run.readResult(vcpu: vcpu, access: index)
          #expect(stored == handler.expectedRead(count: totalReads, size: key.size), "\(key)")
        }
      }
      #expect(statistics[vcpu].ioExits + statistics[vcpu].mmioExits == exits)
      #expect(statistics[vcpu].exits == exits + 1)
      #expect(statistics[vcpu].elapsed > .zero)
    }
  }
}
