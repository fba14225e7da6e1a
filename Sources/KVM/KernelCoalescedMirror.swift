public import ConcurrentBus

/// A range registration whose guest writes KVM buffers in the coalesced ring.
public struct CoalescedRegistration: Sendable, Hashable {
  /// The range registration on the bus of `zone.space`.
  public let registration: Registration
  /// The matching KVM_REGISTER_COALESCED_MMIO zone.
  public let zone: CoalescedZone
}

/// Registers range devices whose writes may be buffered ("coalesced") on a port bus and an
/// MMIO bus, and mirrors each into a KVM coalesced zone: the guest's writes to the range no
/// longer exit at all. KVM appends them to the VM's ``CoalescedRing``; the vCPU run loop
/// applies them through the bus, in order, before the next exit it dispatches, and
/// ``unregister(_:drainingThrough:)`` applies what is left before the device goes.
/// Reads in the range still exit and go to the device, after every buffered write.
///
/// Use it for devices whose writes need not be seen at once: a framebuffer, a UART's
/// transmit register, a doorbell polled later. A device whose write has a side effect the
/// guest waits for (an interrupt, a DMA start) must stay synchronous.
///
/// # Order of the steps
///
/// Every write the guest makes to the range takes exactly one path: it exits and is
/// dispatched to the bus, or KVM appends it to the ring and a drain dispatches it to the bus
/// later. Exactness under churn comes from keeping the bus registration's lifetime a
/// superset of the zone's, and from draining between the two on the way out:
/// - register: the bus first, then the zone. Until the zone exists, writes exit and the
///   device (already on the bus) takes them; after, they are buffered, and every drain of
///   them happens while the device is still registered (see unregister);
/// - unregister: the zone first. When KVM_UNREGISTER_COALESCED_MMIO returns, KVM has waited
///   for its SRCU readers, so no vCPU is still appending a write for the zone; later writes
///   exit. Then drain what KVM had already buffered, through the still-registered bus entry
///   (a drain that another thread has in progress is waited for: ``CoalescedRing`` marks an
///   entry consumed only once it is dispatched). Only then unregister from the bus, which
///   waits for a grace period covering any vCPU still dispatching an exit to the device.
///   With the opposite order, writes buffered before the zone went would be drained after
///   the device left the bus: delivered nowhere, or to the device's successor.
/// - per vCPU, order holds across the switch: a write that exits after the zone is gone is
///   dispatched only after the vCPU has drained (or seen drained) every write it buffered
///   before, whichever thread applies them.
/// The drain lock is released before the bus unregister waits for its grace period.
///
/// The kernel's zone rules (virt/kvm/coalesced_mmio.c, checked on Linux 6.18): zones may
/// overlap, and unregistering a range removes every zone of that space containing it. Bus
/// ranges never overlap, so the zones of one mirror never contain one another; keep zones
/// registered outside the mirror off its buses' ranges, or an unregister here removes them
/// too. A full ring is not an error: the write exits and is dispatched after the ring is
/// drained, in order.
///
/// Rollback: if the kernel refuses the zone (its bus holds 1000 devices: ENOSPC), the bus
/// registration is removed again; writes the device took meanwhile exited to it normally.
///
/// Sendable: all stored properties are immutable and Sendable; the buses, the kernel and
/// the ring's drain lock serialize concurrent registrations.
public final class KernelCoalescedMirror<Flavor: RCUFlavor>: KernelMirror {
  /// The VM whose coalesced zones mirror the buses.
  public let vm: VirtualMachine
  /// The bus for port I/O registrations.
  public let portBus: IOBus<Flavor>
  /// The bus for MMIO registrations.
  public let mmioBus: IOBus<Flavor>
  /// The VM's ring.
  public let ring: CoalescedRing
  private let coalescesPorts: Bool

  /// Mirrors registrations made through this object on `portBus` and `mmioBus` into `vm`.
  ///
  /// Throws `KVMError.invalidArgument` when the VM has no coalesced ring: no vCPU yet (the
  /// ring is mapped from one), or no KVM_CAP_COALESCED_MMIO.
  public init(vm: VirtualMachine, portBus: IOBus<Flavor>, mmioBus: IOBus<Flavor>)
    throws(KVMError)
  {
    guard let ring = vm.coalescedRing else {
      throw .invalidArgument("the VM has no coalesced ring (no vCPU yet, or no capability)")
    }
    self.vm = vm
    self.portBus = portBus
    self.mmioBus = mmioBus
    self.ring = ring
    coalescesPorts = try vm.system.supportsCoalescedPIO()
  }

  /// Registers `device` for `[base, base + length)` in `space` on the bus, then registers
  /// the same range as a coalesced zone: from then on the guest's writes there do not exit.
  ///
  /// - Throws: ``KernelMirrorError/kernel(_:)`` with nothing changed when the range cannot
  ///   be a zone (longer than 4 GiB, ports beyond 0xFFFF, ports without
  ///   KVM_CAP_COALESCED_PIO); ``KernelMirrorError/bus(_:)`` with nothing changed;
  ///   ``KernelMirrorError/kernel(_:)`` after the bus registration was removed again.
  public func register(
    _ device: any IODevice, space: GuestAddressSpace, base: UInt64, length: UInt64
  ) throws(KernelMirrorError) -> CoalescedRegistration {
    let zone = try self.zone(space: space, base: base, length: length)
    let registration = try registerThenBind(
      in: space, binding: "KVM_REGISTER_COALESCED_MMIO",
      register: { bus throws(IOBusError) in try bus.register(device, base: base, length: length) },
      bind: { () throws(KVMError) in try vm.registerCoalescedZone(zone) })
    return CoalescedRegistration(registration: registration, zone: zone)
  }

  /// Unregisters the zone, applies the writes KVM buffered through `handler` on the calling
  /// thread, then unregisters from the bus (waiting for a grace period). When it returns,
  /// every write the guest made to the range before has been delivered once, and the device
  /// receives nothing more. Returns the buffered writes this call applied (of any zone: the
  /// ring is shared, and kept in order).
  ///
  /// The drain runs between `handler.beginDispatching()` and `handler.endDispatching()`:
  /// with a ``BusExitHandler``, the calling thread is registered with `Flavor` for the drain
  /// and unregistered after it, so call this from a thread that is not otherwise a
  /// registered reader on a flavor whose threads must register (QSBR), and never from a
  /// device callback.
  ///
  /// - Throws: ``KernelMirrorError/bus(_:)`` with nothing changed when the registration is
  ///   not on the bus; ``KernelMirrorError/kernel(_:)`` with nothing changed;
  ///   ``KernelMirrorError/bus(_:)`` after the zone was registered again.
  @discardableResult
  public func unregister<Handler: GuestIOHandler>(
    _ coalesced: CoalescedRegistration, drainingThrough handler: Handler
  ) throws(KernelMirrorError) -> Int {
    let bus = bus(coalesced.zone.space)
    // A stale registration must not remove a zone that now belongs to its successor.
    guard bus.device(of: coalesced.registration) != nil else {
      throw .bus(.unknownRegistration(coalesced.registration))
    }
    var applied = 0
    try unbindThenUnregister(
      coalesced.registration, in: coalesced.zone.space, binding: "KVM_REGISTER_COALESCED_MMIO",
      unbind: { () throws(KVMError) in try vm.unregisterCoalescedZone(coalesced.zone) },
      bind: { () throws(KVMError) in try vm.registerCoalescedZone(coalesced.zone) },
      between: {
        guard ring.hasPendingWrites else { return }
        handler.beginDispatching()
        applied = ring.drain(through: handler)
        handler.endDispatching()
      })
    return applied
  }

  /// ``unregister(_:drainingThrough:)`` through a fresh ``BusExitHandler`` over the two
  /// buses: buffered writes no registration claims are counted only in the bus's
  /// ``IOBus/statistics``.
  @discardableResult
  public func unregister(_ coalesced: CoalescedRegistration) throws(KernelMirrorError) -> Int {
    try unregister(coalesced, drainingThrough: BusExitHandler(portBus: portBus, mmioBus: mmioBus))
  }

  /// The zone for a range, or why the kernel cannot take it.
  private func zone(space: GuestAddressSpace, base: UInt64, length: UInt64)
    throws(KernelMirrorError) -> CoalescedZone
  {
    guard let size = UInt32(exactly: length) else {
      throw .kernel(.invalidArgument("a coalesced zone is at most 4 GiB long, not \(length)"))
    }
    if space == .pio {
      guard coalescesPorts else {
        throw .kernel(.invalidArgument("no KVM_CAP_COALESCED_PIO: port zones cannot coalesce"))
      }
      guard base <= 0x1_0000, length <= 0x1_0000 - base else {
        throw .kernel(
          .invalidArgument("ports [0x\(String(base, radix: 16)), +\(length)) pass 0xFFFF"))
      }
    }
    return CoalescedZone(address: base, size: size, space: space)
  }
}
