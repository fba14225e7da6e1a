import ArgumentParser
import RCU

/// The RCU flavors the per-flavor rows compare (churn cost, writers under oversubscription,
/// reclamation latency), each as `IOBus<Flavor>` on the same table: every flavor of the
/// registry (``RCUFlavorName``) but `loaded`, since `stress bench` loads no RCU library.
struct BenchFlavor: Hashable, Codable, Sendable, CaseIterable, RawRepresentable,
  ExpressibleByArgument
{
  /// The flavor's entry in the registry.
  let name: RCUFlavorName

  /// The registry's flavors the rows compare, in its order.
  static let allCases = RCUFlavorName.allCases.compactMap(BenchFlavor.init)

  /// The two flavors the per-flavor targets compare by name (`FlavorTargets.swift`).
  static let memb = BenchFlavor(.memb)!
  static let qsbr = BenchFlavor(.qsbr)!

  /// The flavor `name`, unless the rows leave it out.
  init?(_ name: RCUFlavorName) {
    guard name != .loaded else { return nil }
    self.name = name
  }

  init?(rawValue: String) {
    guard let name = RCUFlavorName(rawValue: rawValue) else { return nil }
    self.init(name)
  }

  var rawValue: String { name.rawValue }

  /// Runs `work` on this flavor's type (through the registry).
  func run<Work: FlavorWork>(_ work: Work) throws -> Work.Output {
    try name.run(work)
  }

  /// Waits until every work this flavor deferred has run, so that one measurement's
  /// reclamations never run into the next one's.
  func barrier() { name.barrier() }
}

/// Work generic over the flavor, run through ``BenchFlavor/run(_:)``: the registry's
/// ``FlavorGenericWork``, under the name the benchmarks' works use.
typealias FlavorWork = FlavorGenericWork
