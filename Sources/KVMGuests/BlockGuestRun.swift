public import KVM
import VhostUser

/// A VM whose vCPUs each run a ``BlockGuestProgram`` in its own area of one memfd-backed
/// RAM slot (shareable with a vhost-user back end), ready to run all at once.
///
/// Sendable: every stored property is immutable and Sendable.
public final class BlockGuestRun: Sendable {
  /// Guest-physical address of the RAM slot.
  public static let memoryBase: UInt64 = 0x10_0000
  /// The VM.
  public let vm: VirtualMachine
  /// Guest RAM, memfd-backed (``GuestMemory/fileDescriptor``).
  public let memory: GuestMemory
  /// One vCPU per program.
  public let vcpus: [VCPU]
  /// The programs, in vCPU order.
  public let programs: [BlockGuestProgram]
  /// Where each program keeps its things.
  public let layouts: [BlockGuestLayout]

  /// Creates the VM, its RAM and one vCPU per program, and loads the programs.
  public init(system: KVMSystem, programs: [BlockGuestProgram]) throws(KVMError) {
    try system.checkProgramCount(programs.count)
    let vm = try system.createVirtualMachine()
    let size = BlockGuestLayout.areaSize * programs.count
    let memory = try vm.addMemory(
      slot: 0, guestPhysicalAddress: Self.memoryBase, size: size, shareable: true)
    var layouts: [BlockGuestLayout] = []
    var vcpus: [VCPU] = []
    for (index, program) in programs.enumerated() {
      let layout: BlockGuestLayout
      do {
        layout = try BlockGuestLayout(
          base: Self.memoryBase + UInt64(index * BlockGuestLayout.areaSize),
          queueSize: program.queueSize)
      } catch {
        throw .invalidArgument("\(error)")
      }
      try program.assemble(layout: layout).load(into: memory)
      layouts.append(layout)
      vcpus.append(try vm.createVCPU(id: UInt32(index)))
    }
    self.vm = vm
    self.memory = memory
    self.vcpus = vcpus
    self.programs = programs
    self.layouts = layouts
  }

  /// Runs one round on every vCPU at once (vCPU `i` delivering to `handlers[i]`), from the
  /// operation each stopped at; returns when all have halted.
  @inlinable
  public func run<Handler: GuestIOHandler>(handlers: [Handler]) throws(KVMError)
    -> [RunStatistics]
  {
    try runConcurrently(vcpus, entries: layouts.map(\.code), handlers: handlers)
  }

  /// The u32 at `address` of guest memory.
  public func load(_ address: UInt64) throws(KVMError) -> UInt32 {
    UInt32(try memory.load(at: address, size: 4))
  }
}
