import RCU

/// The RCU flavors the per-flavor rows compare (churn cost, writers under oversubscription,
/// reclamation latency), each as `IOBus<Flavor>` on the same table: every flavor of the
/// registry (``RCUFlavorName``) but `loaded`, since `stress bench` loads no RCU library.
public struct BenchFlavor: Hashable, Codable, Sendable, CaseIterable, RawRepresentable {
  /// The flavor's entry in the registry.
  public let name: RCUFlavorName

  /// The registry's flavors the rows compare, in its order.
  public static let allCases = RCUFlavorName.allCases.compactMap(BenchFlavor.init)

  /// liburcu's memb flavor, which the per-flavor targets compare with.
  public static let memb = BenchFlavor(.memb)!
  /// liburcu's qsbr flavor, which the per-flavor targets judge against memb.
  public static let qsbr = BenchFlavor(.qsbr)!

  /// The flavor `name`, unless the rows leave it out (`loaded`).
  public init?(_ name: RCUFlavorName) {
    guard name != .loaded else { return nil }
    self.name = name
  }

  /// The flavor named `rawValue` (`memb`, `bp`, `qsbr`, `mb`, `signal`).
  public init?(rawValue: String) {
    guard let name = RCUFlavorName(rawValue: rawValue) else { return nil }
    self.init(name)
  }

  /// The flavor's name in the registry.
  public var rawValue: String { name.rawValue }

  /// Runs `work` on this flavor's type (through the registry).
  func run<Work: FlavorGenericWork>(_ work: Work) throws(Work.Failure) -> Work.Output {
    try name.run(work)
  }

  /// Waits until every work this flavor deferred has run, so that one measurement's
  /// reclamations never run into the next one's.
  func barrier() { name.barrier() }
}
