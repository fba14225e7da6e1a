public import CKVM
import Glibc
import Synchronization

/// One virtual CPU: its descriptor and its shared `kvm_run` area.
///
/// @unchecked Sendable: a vCPU is handed to the thread that runs it; `run` admits
/// one thread at a time (checked with `running`), and register accessors are
/// ioctls the kernel serializes against KVM_RUN on the same vCPU.
public final class VCPU: @unchecked Sendable {
  /// The owning VM, retained so its descriptor outlives this vCPU.
  public let vm: VirtualMachine
  /// The vCPU id passed to KVM_CREATE_VCPU.
  public let id: UInt32
  /// The vCPU file descriptor.
  public let descriptor: Int32
  @usableFromInline let run: UnsafeMutablePointer<kvm_run>
  /// The VM's coalesced ring (shared by every vCPU), drained before each exit is dispatched.
  @usableFromInline let coalescedRing: CoalescedRing?
  private let mmapSize: Int
  private let running = Atomic<Bool>(false)

  init(
    vm: VirtualMachine, id: UInt32, descriptor: Int32, mmapSize: Int,
    coalescedRing: CoalescedRing?
  ) throws(KVMError) {
    let mapped = mmap(nil, mmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
    guard let mapped, mapped != MAP_FAILED else {
      let code = errno
      close(descriptor)
      throw .mmap(what: "kvm_run of vCPU \(id)", errno: code)
    }
    self.vm = vm
    self.id = id
    self.descriptor = descriptor
    self.mmapSize = mmapSize
    self.coalescedRing = coalescedRing
    self.run = mapped.bindMemory(to: kvm_run.self, capacity: 1)
  }

  /// Claims the vCPU for the calling thread, or throws `.vcpuBusy`.
  @usableFromInline
  func beginRun() throws(KVMError) {
    // Acquiring: pairs with the releasing store in `endRun`, so this run sees everything the
    // previous run's thread did to the vCPU (its kvm_run page, its coalesced ring head).
    guard running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { throw .vcpuBusy }
  }

  /// Releases the claim taken by `beginRun`.
  @usableFromInline
  func endRun() {
    // Releasing: pairs with the acquiring exchange in `beginRun` of the next run.
    running.store(false, ordering: .releasing)
  }

  deinit {
    munmap(run, mmapSize)
    close(descriptor)
  }

  /// Reads the general-purpose registers (KVM_GET_REGS).
  public func registers() throws(KVMError) -> kvm_regs {
    try checkedIOCtl(descriptor, CKVM_GET_REGS, named: "KVM_GET_REGS", kvm_regs())
  }

  /// Writes the general-purpose registers (KVM_SET_REGS).
  public func setRegisters(_ registers: kvm_regs) throws(KVMError) {
    try checkedIOCtl(descriptor, CKVM_SET_REGS, named: "KVM_SET_REGS", registers)
  }

  /// Reads the special registers (KVM_GET_SREGS).
  public func specialRegisters() throws(KVMError) -> kvm_sregs {
    try checkedIOCtl(descriptor, CKVM_GET_SREGS, named: "KVM_GET_SREGS", kvm_sregs())
  }

  /// Writes the special registers (KVM_SET_SREGS).
  public func setSpecialRegisters(_ specialRegisters: kvm_sregs) throws(KVMError) {
    try checkedIOCtl(descriptor, CKVM_SET_SREGS, named: "KVM_SET_SREGS", specialRegisters)
  }

  /// Puts the vCPU in 16-bit real mode with `cs.base = 0`, executing at `entry`
  /// (which must be below 64 KiB), interrupts disabled.
  public func configureRealMode(entry: UInt64) throws(KVMError) {
    guard entry < 0x1_0000 else { throw .invalidArgument("real-mode entry must be below 64 KiB") }
    var sregs = try specialRegisters()
    sregs.cs.base = 0
    sregs.cs.selector = 0
    try start(at: entry, special: sregs)
  }

  /// Puts the vCPU in 32-bit protected mode with flat 4 GiB code and data segments,
  /// paging off (linear = physical), the FPU/MMX usable (CR0.EM and CR0.TS clear) so
  /// `GuestProgram` can make 8-byte accesses with MMX `movq`, executing at `entry`.
  ///
  /// No GDT is needed: KVM loads the hidden segment state from `kvm_sregs`, and the
  /// guest never reloads a segment register or takes an interrupt.
  public func configureFlatProtectedMode(entry: UInt64) throws(KVMError) {
    guard entry <= UInt64(UInt32.max) else { throw .invalidArgument("entry must be below 4 GiB") }
    var sregs = try specialRegisters()
    var code = kvm_segment()
    code.base = 0
    code.limit = 0xFFFF_FFFF
    code.selector = 0x08
    code.type = 0x0B
    code.present = 1
    code.dpl = 0
    code.db = 1
    code.s = 1
    code.l = 0
    code.g = 1
    var data = code
    data.selector = 0x10
    data.type = 0x03
    sregs.cs = code
    sregs.ds = data
    sregs.es = data
    sregs.fs = data
    sregs.gs = data
    sregs.ss = data
    let protectionEnable: UInt64 = 1 << 0
    let monitorCoprocessor: UInt64 = 1 << 1
    let emulation: UInt64 = 1 << 2
    let taskSwitched: UInt64 = 1 << 3
    let paging: UInt64 = 1 << 31
    sregs.cr0 =
      (sregs.cr0 | protectionEnable | monitorCoprocessor) & ~(emulation | taskSwitched | paging)
    sregs.efer = 0
    try start(at: entry, special: sregs)
  }

  /// Loads `special`, then the general-purpose registers: all zero but `rip = entry`, and
  /// RFLAGS with only its reserved always-one bit set (interrupts disabled).
  private func start(at entry: UInt64, special: kvm_sregs) throws(KVMError) {
    try setSpecialRegisters(special)
    var regs = kvm_regs()
    regs.rip = entry
    regs.rflags = 2
    try setRegisters(regs)
  }
}
