import Glibc

/// What one `stress bench` run was asked for: its length, and the filters that narrow it.
/// Every section reads what applies to it; anything not given takes the standard set.
public struct BenchSettings: Sendable {
  /// The shorter run (`--quick`): sections size their work down.
  public var quick: Bool
  /// Seconds per timed read-side run.
  public var seconds: Double
  /// Rounds per configuration (rounds alternate the configurations they compare); the
  /// least a target's paired rounds run.
  public var rounds: Int
  /// The most rounds a section's targets may take while an interval still straddles its
  /// limit and is wider than the target's margin.
  public var maximumRounds: Int
  /// The seconds a section's target rounds may take in all before no more are started.
  public var resolveSeconds: Double
  /// The CPUs online: the busy-reader counts follow it.
  public var cores: Int
  /// The read side's table sizes.
  public var sizes: [Int]
  /// The read side's designs.
  public var designs: [Design]
  /// The read side's reader thread counts.
  public var threadCounts: [Int]
  /// The flavors of the per-flavor sections, in report order.
  public var flavors: [BenchFlavor]
  /// Where a section says how far it got (standard error for the tool; nowhere by default).
  public var progress: @Sendable (String) -> Void

  /// The settings of a run. `seconds` defaults to 0.2 (0.04 when `quick`), `rounds` to 5 (3),
  /// `maximumRounds` to 40 (`rounds` when `quick`: no more rounds), `resolveSeconds` to 60;
  /// empty filters take the standard set: sizes 16, 64, 1024 and 10000, every design, 1, 2 and
  /// 2 x `cores` threads, every flavor.
  public init(
    quick: Bool = false, seconds: Double? = nil, rounds: Int? = nil, maximumRounds: Int? = nil,
    resolveSeconds: Double? = nil, cores: Int = sysconf(Int32(_SC_NPROCESSORS_ONLN)),
    sizes: [Int] = [], designs: [Design] = [], threadCounts: [Int] = [],
    flavors: [BenchFlavor] = [], progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.quick = quick
    self.seconds = seconds ?? (quick ? 0.04 : 0.2)
    self.rounds = rounds ?? (quick ? 3 : 5)
    self.maximumRounds = Swift.max(self.rounds, maximumRounds ?? (quick ? self.rounds : 40))
    self.resolveSeconds = resolveSeconds ?? 60
    self.cores = cores
    self.sizes = sizes.isEmpty ? [16, 64, 1024, 10000] : sizes
    self.designs = designs.isEmpty ? Design.allCases : designs
    self.threadCounts =
      threadCounts.isEmpty ? Array(Set([1, 2, 2 * cores])).sorted() : threadCounts
    self.flavors =
      flavors.isEmpty ? BenchFlavor.allCases : Array(Set(flavors)).sorted { $0.order < $1.order }
    self.progress = progress
  }

  /// The settings a report was measured with, as far as its ``MachineInfo`` records them:
  /// enough to render it and draw its figures again.
  public init(_ machine: MachineInfo) {
    self.init(
      quick: machine.quick, seconds: machine.secondsPerRun, rounds: machine.rounds,
      maximumRounds: machine.maximumRounds, cores: machine.cores, flavors: machine.flavors)
  }
}
