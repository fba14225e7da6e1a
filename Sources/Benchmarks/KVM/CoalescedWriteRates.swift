/// Guest writes per second to one range along the three paths a write can take, for one
/// address space, from `CoalescedWriteComparison.run`.
public struct CoalescedWriteRates: Sendable, Hashable, Codable {
  /// `pio` or `mmio`.
  public var space: String
  /// (x) every write exits and the bus dispatches it to a device that checks its value.
  public var exitToBus: RepeatSummary
  /// (y) the range is coalesced: KVM buffers the writes, the run loop applies them through
  /// the bus (same device, same checks) at the next exit, ring full or `hlt`.
  public var coalesced: RepeatSummary
  /// (z) a wildcard KVM_IOEVENTFD on the write's address (through the mirror) absorbs it:
  /// no exit, only a count.
  public var kernelIOEventFD: RepeatSummary
  /// y/z per repeat (target >= 0.9).
  public var coalescedOverIOEventFD: RepeatSummary
  /// y/x per repeat.
  public var coalescedOverExit: RepeatSummary
  /// z/x per repeat.
  public var ioeventfdOverExit: RepeatSummary
  /// Exits to userspace per 1000 coalesced writes (median run): one per ring-full.
  public var coalescedExitsPerThousand: Double
}
