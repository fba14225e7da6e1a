public import ConcurrentBus

/// Delivers one vCPU's exits to a port-I/O ``IOBus`` and an MMIO ``IOBus``, and tallies
/// the writes neither bus claims, per (space, address, size, value).
///
/// Generic over the RCU flavor so `VCPU.run(handler:)` specializes down to the bus's
/// inlined dispatch: no existential and no allocation per exit.
///
/// Use one handler per vCPU (`GuestRun.run(handlers:)`): the tally is a plain dictionary
/// that only the running vCPU's thread writes, so counting an unclaimed write never
/// touches a cache line another vCPU writes. Read ``unclaimedWrites`` only after the run
/// has returned (joining the vCPU thread orders its writes before the read).
///
/// Unclaimed reads return all ones (truncated to the access size), as an unclaimed bus
/// does on real hardware.
///
/// The thread hooks make the vCPU thread a reader of `Flavor` exactly while it dispatches:
/// registered before the first dispatch, offline around every KVM_RUN, unregistered when
/// the run ends. On liburcu's QSBR flavor a grace period then waits only for vCPUs that are
/// dispatching an exit right now, never for one running guest code or halted in KVM_RUN.
/// Per exit that is one `threadOffline` and one `threadOnline` (QSBR: a store and a full
/// barrier to come online; two full barriers around a store to go offline, plus, only when
/// a writer is waiting for this thread, one more barrier and a FUTEX_WAKE); for the other
/// flavors both compile away. `stress kvm --compare --flavor qsbr` measures the cost.
///
/// @unchecked Sendable: `tally` is written only by the one thread running the vCPU that
/// owns this handler, and read only after that thread has been joined.
public final class BusExitHandler<Flavor: RCUFlavor>: GuestIOHandler, @unchecked Sendable {
  /// The bus that port accesses (`in`/`out`) are dispatched to.
  public let portBus: IOBus<Flavor>
  /// The bus that MMIO accesses are dispatched to.
  public let mmioBus: IOBus<Flavor>
  @usableFromInline var tally: [GuestWrite: Int] = [:]

  /// The value an unclaimed read returns before truncation to the access size.
  public static var unclaimedReadValue: UInt64 { .max }

  /// Creates a handler with an empty tally over the two buses.
  public init(portBus: IOBus<Flavor>, mmioBus: IOBus<Flavor>) {
    self.portBus = portBus
    self.mmioBus = mmioBus
  }

  /// Writes that no registration on either bus claimed, by (space, address, size, value).
  public var unclaimedWrites: [GuestWrite: Int] { tally }

  /// Forgets the tally, for reuse across runs.
  public func resetTally() { tally = [:] }

  /// Offers vCPU `vcpu`'s write to the port bus; tallies it when unclaimed.
  @inlinable
  public func portWrite(port: UInt16, size: Int, value: UInt64, vcpu: Int) {
    if portBus.write(address: UInt64(port), size: size, value: value, vcpu: vcpu) == .unclaimed {
      tally[GuestWrite(space: .pio, address: UInt64(port), size: size, value: value), default: 0] +=
        1
    }
  }

  /// Reads through the port bus as vCPU `vcpu`; all ones when unclaimed.
  @inlinable
  public func portRead(port: UInt16, size: Int, vcpu: Int) -> UInt64 {
    portBus.read(address: UInt64(port), size: size, vcpu: vcpu) ?? Self.unclaimedReadValue
  }

  /// Offers vCPU `vcpu`'s write to the MMIO bus; tallies it when unclaimed.
  @inlinable
  public func mmioWrite(address: UInt64, size: Int, value: UInt64, vcpu: Int) {
    if mmioBus.write(address: address, size: size, value: value, vcpu: vcpu) == .unclaimed {
      tally[GuestWrite(space: .mmio, address: address, size: size, value: value), default: 0] += 1
    }
  }

  /// Reads through the MMIO bus as vCPU `vcpu`; all ones when unclaimed.
  @inlinable
  public func mmioRead(address: UInt64, size: Int, vcpu: Int) -> UInt64 {
    mmioBus.read(address: address, size: size, vcpu: vcpu) ?? Self.unclaimedReadValue
  }

  /// ``portWrite(port:size:value:vcpu:)`` as vCPU 0.
  @inlinable
  public func portWrite(port: UInt16, size: Int, value: UInt64) {
    portWrite(port: port, size: size, value: value, vcpu: 0)
  }

  /// ``portRead(port:size:vcpu:)`` as vCPU 0.
  @inlinable
  public func portRead(port: UInt16, size: Int) -> UInt64 {
    portRead(port: port, size: size, vcpu: 0)
  }

  /// ``mmioWrite(address:size:value:vcpu:)`` as vCPU 0.
  @inlinable
  public func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    mmioWrite(address: address, size: size, value: value, vcpu: 0)
  }

  /// ``mmioRead(address:size:vcpu:)`` as vCPU 0.
  @inlinable
  public func mmioRead(address: UInt64, size: Int) -> UInt64 {
    mmioRead(address: address, size: size, vcpu: 0)
  }

  /// Registers the thread with `Flavor` (online, for QSBR) before its first dispatch.
  @inlinable
  public func beginDispatching() { Flavor.registerCurrentThread() }

  /// Takes the thread offline: it may stay in the guest, or halted, for any time.
  @inlinable @inline(__always)
  public func willEnterGuest() { Flavor.threadOffline() }

  /// Brings the thread back online before the exit is dispatched.
  @inlinable @inline(__always)
  public func didExitGuest() { Flavor.threadOnline() }

  /// Unregisters the thread: it dispatches nothing more. A later read on it registers it
  /// again (memb, bp); on QSBR, register it first.
  @inlinable
  public func endDispatching() { Flavor.unregisterCurrentThread() }
}

/// Sums the unclaimed-write tallies of several per-vCPU handlers.
public func mergedUnclaimedWrites<Flavor: RCUFlavor>(_ handlers: [BusExitHandler<Flavor>])
  -> [GuestWrite: Int]
{
  var merged: [GuestWrite: Int] = [:]
  for handler in handlers { merged.merge(handler.unclaimedWrites, uniquingKeysWith: +) }
  return merged
}
