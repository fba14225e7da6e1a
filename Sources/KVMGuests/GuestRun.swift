public import KVM

/// A VM with one vCPU per `GuestProgram`, each program in its own guest RAM area,
/// ready to run all vCPUs at once on their own threads.
///
/// Layout: one memory slot at `memoryBase`; vCPU `i` owns `[memoryBase + i *
/// areaSize, +areaSize)` with its code first and its data on the next page after it.
///
/// Sendable: every stored property is immutable and Sendable.
public final class GuestRun: Sendable {
  /// Guest-physical address of the single RAM slot.
  public static let memoryBase: UInt64 = 0x10_0000
  /// The virtual machine; use it to assign ioeventfds between runs.
  public let vm: VirtualMachine
  /// Guest RAM holding every program.
  public let memory: GuestMemory
  /// One vCPU per program, in order.
  public let vcpus: [VCPU]
  /// The programs, in vCPU order.
  public let programs: [GuestProgram]
  /// The encoded programs, in vCPU order.
  public let assembled: [AssembledGuest]

  /// Creates the VM, its RAM and one vCPU per program, and loads the programs.
  ///
  /// Throws `KVMError.invalidArgument` when there are no programs, more than
  /// KVM_CAP_NR_VCPUS of them, or an MMIO access falls inside guest RAM.
  public init(system: KVMSystem, programs: [GuestProgram]) throws(KVMError) {
    try system.checkProgramCount(programs.count)
    let page = 4096
    var sizes: [(code: Int, data: Int)] = []
    // Encoded lengths do not depend on the addresses (every absolute operand is 4
    // bytes), so a trial assembly sizes each area before the real addresses are known.
    for program in programs {
      let probe = try program.assemble(codeAddress: 0, dataAddress: 0x8000_0000)
      sizes.append((roundUp(probe.code.count, page), roundUp(max(probe.data.count, 1), page)))
    }
    let areaSize = sizes.map { $0.code + $0.data }.max()!
    let ramSize = areaSize * programs.count
    let ramEnd = Self.memoryBase + UInt64(ramSize)
    for program in programs {
      for range in program.mmioRanges {
        if range.address < ramEnd && range.address + UInt64(range.size) > Self.memoryBase {
          throw .invalidArgument("MMIO address 0x\(String(range.address, radix: 16)) is guest RAM")
        }
      }
    }

    let vm = try system.createVirtualMachine()
    let memory = try vm.addMemory(slot: 0, guestPhysicalAddress: Self.memoryBase, size: ramSize)
    var assembled: [AssembledGuest] = []
    var vcpus: [VCPU] = []
    for (index, program) in programs.enumerated() {
      let codeAddress = Self.memoryBase + UInt64(index * areaSize)
      let guest = try program.assemble(
        codeAddress: codeAddress, dataAddress: codeAddress + UInt64(sizes[index].code))
      try guest.load(into: memory)
      assembled.append(guest)
      vcpus.append(try vm.createVCPU(id: UInt32(index)))
    }
    self.vm = vm
    self.memory = memory
    self.vcpus = vcpus
    self.programs = programs
    self.assembled = assembled
  }

  /// Restarts every vCPU at its program's entry and runs them concurrently, each on
  /// its own `HostThread`, sharing `handler`; returns when all have halted.
  ///
  /// Result slots keep their previous contents until the guest overwrites them.
  /// Throws the first error of any vCPU (by vCPU order) after all threads have ended.
  /// Inlinable so the vCPU loops are specialized for the caller's handler type.
  @inlinable
  public func run<Handler: GuestIOHandler>(handler: Handler) throws(KVMError) -> [RunStatistics] {
    try run(handlers: Array(repeating: handler, count: vcpus.count))
  }

  /// Like `run(handler:)`, but vCPU `i` delivers its exits to `handlers[i]` alone, so a
  /// handler can keep per-vCPU state (tallies) that no other thread writes.
  ///
  /// Throws `KVMError.invalidArgument` unless there is exactly one handler per vCPU.
  @inlinable
  public func run<Handler: GuestIOHandler>(handlers: [Handler]) throws(KVMError)
    -> [RunStatistics]
  {
    try runConcurrently(vcpus, entries: assembled.map(\.codeAddress), handlers: handlers)
  }

  /// The sequence number the next sequenced write of vCPU `vcpu` carries: the sequenced
  /// writes it executed since this `GuestRun` was created, modulo 2^32 (its
  /// ``SequencedValue`` keeps the low 24 bits). Read it between runs.
  public func sequenceCounter(vcpu: Int) throws(KVMError) -> UInt32 {
    guard let address = assembled[vcpu].sequenceCounterAddress else {
      throw .invalidArgument("the program of vCPU \(vcpu) has no sequenced writes")
    }
    return UInt32(try memory.load(at: address, size: 4))
  }

  /// The value last stored by read access `access` of the program on vCPU `vcpu`
  /// (zero-extended to the access size), or throws if that access is not a read.
  public func readResult(vcpu: Int, access: Int) throws(KVMError) -> UInt64 {
    guard let address = assembled[vcpu].resultAddresses[access] else {
      throw .invalidArgument("access \(access) of vCPU \(vcpu) is not a read")
    }
    let size: Int
    switch programs[vcpu].accesses[access] {
    case .portRead(_, let s), .mmioRead(_, let s): size = s
    case .portWrite, .mmioWrite: size = 8
    }
    return try memory.load(at: address, size: size)
  }
}

private func roundUp(_ value: Int, _ multiple: Int) -> Int {
  (value + multiple - 1) / multiple * multiple
}
