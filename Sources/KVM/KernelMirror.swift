public import ConcurrentBus

/// A VM whose kernel table follows registrations on a port bus and an MMIO bus:
/// ``KernelIOEventFDMirror`` (KVM_IOEVENTFD) and ``KernelCoalescedMirror`` (coalesced zones).
///
/// Both keep a bus registration's lifetime a superset of its kernel binding's: the bus first
/// on the way in, the kernel first on the way out, and the first step undone when the second
/// fails, so that either both sides change or neither does (each mirror's documentation says
/// why that order is the one that keeps counts exact).
public protocol KernelMirror<Flavor>: Sendable {
  /// The RCU flavor of both buses.
  associatedtype Flavor: RCUFlavor
  /// The VM whose kernel table mirrors the buses.
  var vm: VirtualMachine { get }
  /// The bus for port I/O registrations.
  var portBus: IOBus<Flavor> { get }
  /// The bus for MMIO registrations.
  var mmioBus: IOBus<Flavor> { get }
}

extension KernelMirror {
  /// The bus for `space`.
  public func bus(_ space: GuestAddressSpace) -> IOBus<Flavor> {
    space == .pio ? portBus : mmioBus
  }

  /// The way in: `register` on the bus of `space`, then `bind` in the kernel (named `binding`
  /// in messages). When the kernel refuses, the bus registration is removed again.
  ///
  /// - Throws: ``KernelMirrorError/bus(_:)`` with nothing changed;
  ///   ``KernelMirrorError/kernel(_:)`` after the bus registration was removed again.
  func registerThenBind(
    in space: GuestAddressSpace, binding: String,
    register: (IOBus<Flavor>) throws(IOBusError) -> Registration,
    bind: () throws(KVMError) -> Void
  ) throws(KernelMirrorError) -> Registration {
    let bus = bus(space)
    let registration: Registration
    do {
      registration = try register(bus)
    } catch {
      throw .bus(error)
    }
    do {
      try bind()
    } catch {
      do {
        try bus.unregister(registration)
      } catch let undo {
        throw .undoFailed(step: "\(binding): \(error)", undo: "bus unregister: \(undo)")
      }
      throw .kernel(error)
    }
    return registration
  }

  /// The way out: `unbind` in the kernel, then `between` (what must happen while the bus
  /// registration is still in place), then unregister `registration` from the bus of `space`
  /// (waiting for a grace period). When the bus refuses, `bind` (named `binding` in messages)
  /// makes the kernel binding again.
  ///
  /// - Throws: ``KernelMirrorError/kernel(_:)`` with nothing changed;
  ///   ``KernelMirrorError/bus(_:)`` after the kernel binding was made again.
  func unbindThenUnregister(
    _ registration: Registration, in space: GuestAddressSpace, binding: String,
    unbind: () throws(KVMError) -> Void, bind: () throws(KVMError) -> Void,
    between: () -> Void = {}
  ) throws(KernelMirrorError) {
    do {
      try unbind()
    } catch {
      throw .kernel(error)
    }
    between()
    do {
      try bus(space).unregister(registration)
    } catch {
      do {
        try bind()
      } catch let undo {
        throw .undoFailed(step: "bus unregister: \(error)", undo: "\(binding): \(undo)")
      }
      throw .bus(error)
    }
  }
}
