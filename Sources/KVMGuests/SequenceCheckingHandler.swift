public import ConcurrentBus
public import KVM

/// A ``BusExitHandler`` that also feeds every write no registration claims to a
/// ``SequenceCheck``: with ``SequenceCheckingDevice``s on the buses, every sequenced guest
/// write reaches the check exactly once, whether a device takes it (exit or coalesced
/// ring, on any thread) or nothing does (the range was unregistered at that moment).
///
/// Use it with programs whose writes that can go unclaimed are all sequenced: any other
/// unclaimed write is recorded too, and then reported as malformed or out of order. One
/// instance may serve every vCPU and ``KernelCoalescedMirror/unregister(_:drainingThrough:)``
/// at once: it keeps no state of its own.
public struct SequenceCheckingHandler<Flavor: RCUFlavor>: GuestIOHandler {
  /// Dispatch and the thread hooks.
  public let dispatcher: BusExitHandler<Flavor>
  /// Where unclaimed writes go.
  public let check: SequenceCheck

  /// Dispatches to `portBus` and `mmioBus`, feeding unclaimed writes to `check`.
  public init(portBus: IOBus<Flavor>, mmioBus: IOBus<Flavor>, check: SequenceCheck) {
    dispatcher = BusExitHandler(portBus: portBus, mmioBus: mmioBus)
    self.check = check
  }

  /// Offers the write to the port bus; records it when unclaimed.
  public func portWrite(port: UInt16, size: Int, value: UInt64) {
    if dispatcher.portBus.write(address: UInt64(port), size: size, value: value) == .unclaimed {
      check.record(value, size: size)
    }
  }

  /// Reads through the port bus (all ones when unclaimed).
  public func portRead(port: UInt16, size: Int) -> UInt64 {
    dispatcher.portRead(port: port, size: size)
  }

  /// Offers the write to the MMIO bus; records it when unclaimed.
  public func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    if dispatcher.mmioBus.write(address: address, size: size, value: value) == .unclaimed {
      check.record(value, size: size)
    }
  }

  /// Reads through the MMIO bus (all ones when unclaimed).
  public func mmioRead(address: UInt64, size: Int) -> UInt64 {
    dispatcher.mmioRead(address: address, size: size)
  }

  /// As ``BusExitHandler/beginDispatching()``.
  public func beginDispatching() { dispatcher.beginDispatching() }
  /// As ``BusExitHandler/willEnterGuest()``.
  public func willEnterGuest() { dispatcher.willEnterGuest() }
  /// As ``BusExitHandler/didExitGuest()``.
  public func didExitGuest() { dispatcher.didExitGuest() }
  /// As ``BusExitHandler/endDispatching()``.
  public func endDispatching() { dispatcher.endDispatching() }
}
