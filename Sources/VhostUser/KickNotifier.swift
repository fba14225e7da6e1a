public import ConcurrentBus

/// Why a kick notifier could not be bound, moved or switched.
public enum KickNotifierError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The bus refused (a collision, an unknown registration).
  case bus(IOBusError)
  /// The host's side (KVM_IOEVENTFD) refused; the text says what and why.
  case kernel(String)

  public var description: String {
    switch self {
    case .bus(let error): "bus: \(error)"
    case .kernel(let what): "kernel: \(what)"
    }
  }
}

/// How a queue's kick eventfd is attached to the guest's notify address: the bus alone
/// (``BusKickNotifier``), or the bus mirrored into KVM_IOEVENTFD by whoever owns the VM.
///
/// The rule every conformer keeps: while a binding exists, a guest write matching it
/// signals the binding's eventfd, whichever path it takes (the kernel's ioeventfd, or an
/// exit the bus dispatches); ``rebind(_:to:released:)`` and ``move(_:to:)`` switch with
/// no instant at which a matching write finds nothing. None of the calls waits for a grace
/// period, so they may be made from a device callback or under a lock a vCPU may want.
public protocol KickNotifier: Sendable {
  /// One bound kick.
  associatedtype Binding: Sendable

  /// Binds `kick` to 4-byte writes of `value` at `address`.
  func bind(_ kick: EventFD, address: UInt64, value: UInt64) throws(KickNotifierError) -> Binding

  /// The same place with `kick` instead of the binding's eventfd, switched in one publish;
  /// `released` runs once nothing can signal the old eventfd any more.
  func rebind(_ binding: Binding, to kick: EventFD, released: @escaping @Sendable () -> Void)
    throws(KickNotifierError) -> Binding

  /// The same eventfd at `address` (the guest moved the notify region).
  func move(_ binding: Binding, to address: UInt64) throws(KickNotifierError) -> Binding

  /// Removes the binding; `released` runs once nothing can signal its eventfd any more.
  func unbind(_ binding: Binding, released: @escaping @Sendable () -> Void)
    throws(KickNotifierError)
}

/// A binding of ``BusKickNotifier``.
public struct BusKickBinding: Sendable {
  /// The registration on the bus.
  public let registration: Registration
  /// The eventfd it signals.
  public let kick: EventFD
  /// The notify address.
  public let address: UInt64
  /// The value it matches (the queue index, for virtio-mmio's QueueNotify).
  public let value: UInt64
}

/// Kicks on the bus alone: every guest write to the notify address exits and the bus signals
/// the eventfd (what a VMM without KVM_IOEVENTFD, or a test without a VM, does).
public struct BusKickNotifier<Flavor: RCUFlavor>: KickNotifier {
  /// The MMIO bus.
  public let bus: IOBus<Flavor>

  /// Binds kicks on `bus`.
  public init(bus: IOBus<Flavor>) { self.bus = bus }

  public func bind(_ kick: EventFD, address: UInt64, value: UInt64) throws(KickNotifierError)
    -> BusKickBinding
  {
    do {
      let registration = try bus.registerEventFD(
        kick, address: address, size: 4, match: .value(value))
      return BusKickBinding(registration: registration, kick: kick, address: address, value: value)
    } catch {
      throw .bus(error)
    }
  }

  public func rebind(
    _ binding: BusKickBinding, to kick: EventFD, released: @escaping @Sendable () -> Void
  ) throws(KickNotifierError) -> BusKickBinding {
    do {
      let registration = try bus.swapEventFD(
        binding.registration, to: kick, at: binding.address, value: binding.value,
        released: released)
      return BusKickBinding(
        registration: registration, kick: kick, address: binding.address, value: binding.value)
    } catch {
      throw .bus(error)
    }
  }

  public func move(_ binding: BusKickBinding, to address: UInt64) throws(KickNotifierError)
    -> BusKickBinding
  {
    do {
      let registration = try bus.move(binding.registration, to: address)
      return BusKickBinding(
        registration: registration, kick: binding.kick, address: address, value: binding.value)
    } catch {
      throw .bus(error)
    }
  }

  public func unbind(_ binding: BusKickBinding, released: @escaping @Sendable () -> Void)
    throws(KickNotifierError)
  {
    do {
      try bus.unregister(binding.registration, whenReleased: released)
    } catch {
      throw .bus(error)
    }
  }
}

extension IOBus {
  /// Replaces the eventfd of the value-matched `registration` with `kick` in one publish
  /// (unregister and register in one batch, so every matching write finds one of the two),
  /// without waiting: `released` runs after the grace period, when the bus no longer holds
  /// the old eventfd.
  public func swapEventFD(
    _ registration: Registration, to kick: EventFD, at address: UInt64, value: UInt64,
    released: @escaping @Sendable () -> Void
  ) throws(IOBusError) -> Registration {
    try update(reclaim: .deferred(released)) { (tx: inout IOBusTransaction) throws(IOBusError) in
      try tx.unregister(registration)
      return try tx.registerEventFD(kick, address: address, size: 4, match: .value(value))
    }
  }
}
