import KVM
import KVMGuests

extension ViolationKind {
  /// `kvm --coalesced`: a sequenced value came before its turn: the writer's values between
  /// were lost, or arrive later (out of order). ``SequenceCheck``'s `skipped`.
  public static let sequenceSkipped = ViolationKind("sequence-skipped")
  /// `kvm --coalesced`: a sequenced value came after a later one of its writer: delivered
  /// twice, or out of order. ``SequenceCheck``'s `repeated`.
  public static let sequenceRepeated = ViolationKind("sequence-repeated")
  /// `kvm --coalesced`: at the end, a writer's delivered values differ in number from the
  /// sequenced writes its guest executed (fewer: lost; more: duplicated).
  public static let sequenceCount = ViolationKind("sequence-count")
  /// `kvm --coalesced`: a value no sequenced write carries reached a coalesced range.
  public static let sequenceMalformed = ViolationKind("sequence-malformed")
  /// `kvm --coalesced`: a write KVM buffered in the coalesced ring reached no device when it
  /// was applied: its range's bus registration ended before the ring was drained.
  public static let coalescedUnclaimed = ViolationKind("coalesced-unclaimed")
  /// `kvm --coalesced`: a write KVM buffered for a range was applied while that range was
  /// not a coalesced zone nor being unregistered: after its unregister returned (a late or
  /// missing drain), or for a registration that never had a zone.
  public static let coalescedLate = ViolationKind("coalesced-late")
  /// `kvm --coalesced`: a vCPU applied a buffered write after the exit in hand (after a read,
  /// or after a write outside the coalesced ranges), or the buffered writes its accesses show
  /// differ in number from those its run loop drained.
  public static let drainOrder = ViolationKind("drain-order")
}

extension SequenceViolation.Kind {
  /// The report's kind for ``SequenceCheck``'s verdict.
  var violationKind: ViolationKind {
    switch self {
    case .skipped: .sequenceSkipped
    case .repeated: .sequenceRepeated
    case .countMismatch: .sequenceCount
    case .malformed: .sequenceMalformed
    }
  }
}
