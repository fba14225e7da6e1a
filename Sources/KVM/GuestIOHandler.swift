/// Receives the guest accesses that exit to userspace.
///
/// The run loop is generic over the handler, so calls are specialized and each
/// exit costs no allocation or existential dispatch. Handlers are shared by every
/// vCPU thread of a VM and are called concurrently; they must not block one vCPU on
/// another's progress.
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
  /// Wall-clock time from entering to leaving `run`.
  public var elapsed: Duration = .zero

  /// Creates zeroed statistics.
  public init() {}
}
