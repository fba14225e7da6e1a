import ConcurrentBus
import KVM
import VhostUser

/// A kick bound in KVM_IOEVENTFD, and on the bus too unless the notifier is kernel-only.
struct KernelKickBinding: Sendable {
  let registration: Registration?
  let assignment: IOEventFDAssignment
  let kick: EventFD
}

/// Kicks the way a VMM with KVM binds them: the bus registration is the authority and
/// KVM_IOEVENTFD mirrors it (`withBus`, the bus's lifetime a superset of the kernel's, as in
/// `KernelIOEventFDMirror`), so a kick that exits while the kernel binding is being switched
/// is dispatched by the bus to the same eventfd; or, for the comparison, the eventfd
/// assigned in KVM by hand with no bus at all.
struct KernelKickNotifier<Flavor: RCUFlavor>: KickNotifier {
  let vm: VirtualMachine
  let bus: IOBus<Flavor>
  let withBus: Bool

  private func assignment(_ kick: EventFD, _ address: UInt64, _ value: UInt64)
    -> IOEventFDAssignment
  {
    IOEventFDAssignment(
      eventFD: kick.descriptor, address: address, length: 4, space: .mmio, datamatch: value)
  }

  private func kernel(_ step: () throws(KVMError) -> Void) throws(KickNotifierError) {
    do {
      try step()
    } catch {
      throw .kernel("\(error)")
    }
  }

  private func onBus<Result>(_ step: () throws(IOBusError) -> Result) throws(KickNotifierError)
    -> Result
  {
    do {
      return try step()
    } catch {
      throw .bus(error)
    }
  }

  func bind(_ kick: EventFD, address: UInt64, value: UInt64) throws(KickNotifierError)
    -> KernelKickBinding
  {
    let binding = assignment(kick, address, value)
    let registration =
      withBus
      ? try onBus { () throws(IOBusError) in
        try bus.registerEventFD(kick, address: address, size: 4, match: .value(value))
      } : nil
    do throws(KickNotifierError) {
      try kernel { () throws(KVMError) in try vm.assign(binding) }
    } catch {
      if let registration { try? bus.unregister(registration) {} }
      throw error
    }
    return KernelKickBinding(registration: registration, assignment: binding, kick: kick)
  }

  func rebind(
    _ binding: KernelKickBinding, to kick: EventFD, released: @escaping @Sendable () -> Void
  ) throws(KickNotifierError) -> KernelKickBinding {
    let old = binding.assignment
    let new = assignment(kick, old.address, old.datamatch ?? 0)
    try kernel { () throws(KVMError) in try vm.deassign(old) }
    // Until the assign below, a matching kick exits: the bus dispatches it to the old
    // eventfd, then (after the swap) to the new one.
    var registration: Registration?
    if let previous = binding.registration {
      registration = try onBus { () throws(IOBusError) in
        try bus.swapEventFD(
          previous, to: kick, at: old.address, value: old.datamatch ?? 0, released: released)
      }
    }
    try kernel { () throws(KVMError) in try vm.assign(new) }
    // Kernel-only: the deassign waited for the kernel's in-flight signals of the old one.
    if binding.registration == nil { released() }
    return KernelKickBinding(registration: registration, assignment: new, kick: kick)
  }

  func move(_ binding: KernelKickBinding, to address: UInt64) throws(KickNotifierError)
    -> KernelKickBinding
  {
    let old = binding.assignment
    var new = old
    new.address = address
    try kernel { () throws(KVMError) in try vm.deassign(old) }
    var registration: Registration?
    if let previous = binding.registration {
      registration = try onBus { () throws(IOBusError) in try bus.move(previous, to: address) }
    }
    try kernel { () throws(KVMError) in try vm.assign(new) }
    return KernelKickBinding(registration: registration, assignment: new, kick: binding.kick)
  }

  func unbind(_ binding: KernelKickBinding, released: @escaping @Sendable () -> Void)
    throws(KickNotifierError)
  {
    try kernel { () throws(KVMError) in try vm.deassign(binding.assignment) }
    if let registration = binding.registration {
      try onBus { () throws(IOBusError) in
        try bus.unregister(registration, whenReleased: released)
      }
    } else {
      released()
    }
  }
}
