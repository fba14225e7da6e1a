/// Receives the guest accesses that exit to userspace, and the writes KVM buffered in the
/// coalesced ring.
///
/// `VCPU.run` delivers every access through the forms that name the vCPU (its
/// ``VCPU/id``); their default implementations call the forms without it, so a handler that
/// does not care implements only those.
///
/// The run loop is generic over the handler, so calls are specialized and each
/// exit costs no allocation or existential dispatch. Handlers are shared by every
/// vCPU thread of a VM and are called concurrently; they must not block one vCPU on
/// another's progress.
///
/// The four thread hooks let a handler that reads through RCU tell its flavor when the
/// thread may read: `VCPU.run` calls ``beginDispatching()`` once before the first KVM_RUN,
/// ``willEnterGuest()`` before and ``didExitGuest()`` after every KVM_RUN, and
/// ``endDispatching()`` once on the way out (also when it throws). Accesses are delivered
/// only between ``didExitGuest()`` and the next ``willEnterGuest()``. All four default to
/// nothing.
public protocol GuestIOHandler: Sendable {
  /// The guest wrote `value` (its low `size` bytes: 1, 2 or 4) to I/O port `port`.
  func portWrite(port: UInt16, size: Int, value: UInt64)
  /// The guest reads `size` bytes from I/O port `port`; the low `size` bytes of the
  /// result reach the guest.
  func portRead(port: UInt16, size: Int) -> UInt64
  /// The guest wrote `value` (its low `size` bytes: 1, 2, 4 or 8) to guest-physical
  /// `address`, which has no memory slot.
  func mmioWrite(address: UInt64, size: Int, value: UInt64)
  /// The guest reads `size` bytes at guest-physical `address`, which has no memory
  /// slot; the low `size` bytes of the result reach the guest.
  func mmioRead(address: UInt64, size: Int) -> UInt64

  /// vCPU `vcpu` wrote to an I/O port (see ``portWrite(port:size:value:)``).
  func portWrite(port: UInt16, size: Int, value: UInt64, vcpu: Int)
  /// vCPU `vcpu` reads from an I/O port (see ``portRead(port:size:)``).
  func portRead(port: UInt16, size: Int, vcpu: Int) -> UInt64
  /// vCPU `vcpu` wrote to MMIO (see ``mmioWrite(address:size:value:)``).
  func mmioWrite(address: UInt64, size: Int, value: UInt64, vcpu: Int)
  /// vCPU `vcpu` reads from MMIO (see ``mmioRead(address:size:)``).
  func mmioRead(address: UInt64, size: Int, vcpu: Int) -> UInt64

  /// The calling thread is about to deliver accesses (a vCPU run starts, or a coalesced
  /// mirror drains the ring off a vCPU thread); it may read from here on.
  func beginDispatching()
  /// The thread is about to enter the guest (KVM_RUN), where it may block for long: it holds
  /// no reference obtained while dispatching.
  func willEnterGuest()
  /// The thread is back from KVM_RUN and may read again.
  func didExitGuest()
  /// The thread delivers nothing more (the run returns or throws, the drain is done).
  func endDispatching()
}

extension GuestIOHandler {
  /// Calls ``portWrite(port:size:value:)``: the handler does not care which vCPU writes.
  @inlinable @inline(__always)
  public func portWrite(port: UInt16, size: Int, value: UInt64, vcpu: Int) {
    portWrite(port: port, size: size, value: value)
  }

  /// Calls ``portRead(port:size:)``: the handler does not care which vCPU reads.
  @inlinable @inline(__always)
  public func portRead(port: UInt16, size: Int, vcpu: Int) -> UInt64 {
    portRead(port: port, size: size)
  }

  /// Calls ``mmioWrite(address:size:value:)``: the handler does not care which vCPU writes.
  @inlinable @inline(__always)
  public func mmioWrite(address: UInt64, size: Int, value: UInt64, vcpu: Int) {
    mmioWrite(address: address, size: size, value: value)
  }

  /// Calls ``mmioRead(address:size:)``: the handler does not care which vCPU reads.
  @inlinable @inline(__always)
  public func mmioRead(address: UInt64, size: Int, vcpu: Int) -> UInt64 {
    mmioRead(address: address, size: size)
  }

  /// Nothing: a handler that does not read through RCU needs no thread state.
  @inlinable @inline(__always)
  public func beginDispatching() {}

  /// Nothing: a handler that does not read through RCU needs no thread state.
  @inlinable @inline(__always)
  public func willEnterGuest() {}

  /// Nothing: a handler that does not read through RCU needs no thread state.
  @inlinable @inline(__always)
  public func didExitGuest() {}

  /// Nothing: a handler that does not read through RCU needs no thread state.
  @inlinable @inline(__always)
  public func endDispatching() {}
}

/// Counters of one `VCPU.run` call.
public struct RunStatistics: Sendable, Equatable {
  /// Successful KVM_RUN calls (one per exit, including the final HLT).
  public var exits: Int = 0
  /// KVM_EXIT_IO exits.
  public var ioExits: Int = 0
  /// KVM_EXIT_MMIO exits.
  public var mmioExits: Int = 0
  /// Port accesses delivered to the handler (string I/O delivers `count` per exit).
  public var portAccesses: Int = 0
  /// KVM_RUN calls interrupted by a signal and retried.
  public var interruptedRuns: Int = 0
  /// Coalesced-ring entries this thread applied before dispatching an exit (writes of any
  /// vCPU of the VM: the ring is shared, and whichever thread finds it non-empty drains it).
  public var drainedCoalescedWrites: Int = 0
  /// Wall-clock time from entering to leaving `run`.
  public var elapsed: Duration = .zero

  /// Creates zeroed statistics.
  public init() {}
}
