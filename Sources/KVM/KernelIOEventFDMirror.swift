public import ConcurrentBus

/// The errors of ``KernelIOEventFDMirror``, named before ``KernelCoalescedMirror`` shared them.
public typealias KernelIOEventFDMirrorError = KernelMirrorError

/// An ioeventfd registered on a bus and mirrored into KVM_IOEVENTFD.
public struct MirroredRegistration: Sendable {
  /// The registration on the bus of `space`.
  public let registration: Registration
  /// The matching KVM_IOEVENTFD binding.
  public let assignment: IOEventFDAssignment
  /// The eventfd both sides signal; held so its descriptor number stays valid and unique.
  public let eventFD: EventFD
}

/// Keeps ioeventfd registrations on a port bus and an MMIO bus mirrored into the
/// kernel's KVM_IOEVENTFD, as QEMU does: matching guest writes are absorbed in the kernel
/// (no exit) and every other write still exits to the bus.
///
/// # Order of the steps
///
/// Counting: a guest write takes exactly one path. Either the kernel matches it against
/// an assigned ioeventfd and signals the eventfd (no exit), or the vCPU exits and the run
/// loop offers it to the bus once, which either signals the eventfd or leaves it
/// unclaimed. So a write is counted once, in the eventfd counter or in the run loop's
/// unclaimed tally, never in both and never in neither, as long as the eventfd is kept
/// and drained after the registration is gone (the kernel holds its own reference to the
/// eventfd and may signal it until deassign returns). That holds for either order.
///
/// What the order decides is which side is authoritative. We keep the bus registration's
/// lifetime a superset of the kernel assignment's: bus register, then kernel assign on
/// the way in; kernel deassign, then bus unregister on the way out. Then:
/// - everything the kernel absorbs is registered on the bus at that instant, so the
///   bus's table is the truth and its KVM-rule collision check decides every conflict:
///   the kernel never answers EEXIST for a binding the bus accepted (with the opposite
///   order, a concurrent register could pass the bus while an old binding is still
///   assigned, fail in the kernel, and have to roll back);
/// - a matching write the kernel lets through (not assigned yet, deassigned already, or
///   exited just before the assign) is claimed by the bus if it is dispatched while the
///   registration is in place, exactly as without the mirror: the kernel is only a fast
///   path inside [bus register, bus unregister];
/// - when unregister returns nothing signals the eventfd any more: deassign waits for the
///   kernel's in-flight signals (its SRCU grace period), and the bus unregister then
///   waits for an RCU grace period covering every vCPU still dispatching an exit that
///   happened before the deassign. A drain after that is final.
///
/// Rollback: if the kernel refuses the assignment (a collision with a binding made
/// outside this mirror, a descriptor limit), the bus registration is removed again. Until
/// then any write it claimed was signalled on the eventfd, so its count stays exact.
///
/// Sendable: all stored properties are immutable and Sendable; the bus and the kernel
/// serialize concurrent registrations themselves.
public final class KernelIOEventFDMirror<Flavor: RCUFlavor>: KernelMirror {
  /// The VM whose KVM_IOEVENTFD table mirrors the buses.
  public let vm: VirtualMachine
  /// The bus for port I/O registrations.
  public let portBus: IOBus<Flavor>
  /// The bus for MMIO registrations.
  public let mmioBus: IOBus<Flavor>

  /// Mirrors registrations made through this object on `portBus` and `mmioBus` into `vm`.
  public init(vm: VirtualMachine, portBus: IOBus<Flavor>, mmioBus: IOBus<Flavor>) {
    self.vm = vm
    self.portBus = portBus
    self.mmioBus = mmioBus
  }

  /// Registers `eventFD` for writes at `address` in `space` matching `size` and `match`
  /// (KVM ioeventfd rules) on the bus, then assigns the same binding in the kernel.
  ///
  /// - Throws: ``KernelMirrorError/bus(_:)`` with nothing changed;
  ///   ``KernelMirrorError/kernel(_:)`` after the bus registration was removed
  ///   again.
  public func register(
    _ eventFD: EventFD, space: GuestAddressSpace, address: UInt64, size: Int, match: ValueMatch
  ) throws(KernelMirrorError) -> MirroredRegistration {
    let datamatch: UInt64?
    switch match {
    case .any: datamatch = nil
    case .value(let value): datamatch = value
    }
    let assignment = IOEventFDAssignment(
      eventFD: eventFD.descriptor, address: address, length: size, space: space,
      datamatch: datamatch)
    let registration = try registerThenBind(
      in: space, binding: "KVM_IOEVENTFD assign",
      register: { bus throws(IOBusError) in
        try bus.registerEventFD(eventFD, address: address, size: size, match: match)
      },
      bind: { () throws(KVMError) in try vm.assign(assignment) })
    return MirroredRegistration(
      registration: registration, assignment: assignment, eventFD: eventFD)
  }

  /// Deassigns the kernel binding, then unregisters from the bus (waiting for a grace
  /// period). When it returns, nothing signals the eventfd any more.
  ///
  /// - Throws: ``KernelMirrorError/kernel(_:)`` with nothing changed;
  ///   ``KernelMirrorError/bus(_:)`` after the kernel binding was assigned again.
  public func unregister(_ mirrored: MirroredRegistration) throws(KernelMirrorError) {
    try withExtendedLifetime(mirrored.eventFD) { () throws(KernelMirrorError) in
      try unbindThenUnregister(
        mirrored.registration, in: mirrored.assignment.space, binding: "KVM_IOEVENTFD assign",
        unbind: { () throws(KVMError) in try vm.deassign(mirrored.assignment) },
        bind: { () throws(KVMError) in try vm.assign(mirrored.assignment) })
    }
  }
}
