import CToyRCU
import RCU

/// The toy RCU's variants by name (`--flavor toy-mb` and so on): two correct ones and, for
/// each, the same with one barrier taken out.
public enum ToyRCUName: String, CaseIterable, Codable, Sendable {
  /// ``ToyFencedRCU``: fences on the reader's entry and exit. Correct.
  case mb = "toy-mb"
  /// ``ToyMembarrierRCU``: compiler barriers on the reader, `sys_membarrier` on the writer.
  /// Correct.
  case memb = "toy-memb"
  /// ``ToyUnfencedEntryRCU``: `toy-mb` without the store-load fence on entry. A fault.
  case mbUnfencedEntry = "toy-mb-unfenced-entry"
  /// ``ToyNoMembarrierRCU``: `toy-memb` with writer-local fences instead of
  /// `sys_membarrier`. A fault.
  case membNoMembarrier = "toy-memb-no-membarrier"

  /// Whether the variant has a barrier taken out.
  public var isFaulty: Bool { self == .mbUnfencedEntry || self == .membNoMembarrier }

  /// What is missing, for a faulty variant's reports; nil for a correct one.
  public var missingBarrier: String? {
    switch self {
    case .mb, .memb: nil
    case .mbUnfencedEntry: "the store-load fence on the read-side entry"
    case .membNoMembarrier: "the grace period's sys_membarrier"
    }
  }

  /// Whether the variant can run here: the memb variant needs `sys_membarrier`'s private
  /// expedited command.
  public var isAvailable: Bool { self != .memb || toyrcu_membarrier_available() }

  /// Runs `work` on the variant's flavor type.
  @inlinable
  public func run<Work: FlavorGenericWork>(_ work: Work) throws(Work.Failure) -> Work.Output {
    switch self {
    case .mb: try work.run(ToyFencedRCU.self)
    case .memb: try work.run(ToyMembarrierRCU.self)
    case .mbUnfencedEntry: try work.run(ToyUnfencedEntryRCU.self)
    case .membNoMembarrier: try work.run(ToyNoMembarrierRCU.self)
    }
  }
}
