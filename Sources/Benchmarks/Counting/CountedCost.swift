/// What one operation of a workload costs, counted: the difference between two runs of the
/// same program, one making twice as many operations as the other, divided by the extra
/// operations: what the loop does once (its entry, the first pass's warming of the caches)
/// cancels, and only the loop is counted (``Callgrind``).
public struct CountedCost: Codable, Sendable, Equatable {
  /// Instructions per operation.
  public var instructions: Double
  /// Conditional and indirect branches per operation.
  public var branches: Double
  /// Mispredicted branches per operation (valgrind's simulated predictor): not reproducible
  /// from run to run (see ``CountedReport/text``), so never printed nor gated.
  public var mispredicts: Double
  /// Data accesses per operation.
  public var dataAccesses: Double
  /// First-level data-cache misses per operation (simulated).
  public var level1DataMisses: Double
  /// First-level instruction-cache misses per operation (simulated).
  public var level1InstructionMisses: Double
  /// Last-level misses per operation (simulated): accesses that would go to memory.
  public var lastLevelMisses: Double

  /// The cost of `operations` operations: `longer`'s totals (a run of `2 x operations`)
  /// minus `shorter`'s (a run of `operations`), divided by `operations`.
  public init(shorter: ValgrindTotals, longer: ValgrindTotals, operations: Int) {
    func per(_ count: KeyPath<ValgrindTotals, UInt64>) -> Double {
      (Double(longer[keyPath: count]) - Double(shorter[keyPath: count])) / Double(operations)
    }
    instructions = per(\.instructions)
    branches = per(\.branches)
    mispredicts = per(\.mispredicts)
    dataAccesses = per(\.dataAccesses)
    level1DataMisses = per(\.level1DataMisses)
    level1InstructionMisses = per(\.level1InstructionMisses)
    lastLevelMisses = per(\.lastLevelMisses)
  }

  /// A cost with every figure given.
  public init(
    instructions: Double, branches: Double, mispredicts: Double, dataAccesses: Double,
    level1DataMisses: Double, level1InstructionMisses: Double, lastLevelMisses: Double
  ) {
    self.instructions = instructions
    self.branches = branches
    self.mispredicts = mispredicts
    self.dataAccesses = dataAccesses
    self.level1DataMisses = level1DataMisses
    self.level1InstructionMisses = level1InstructionMisses
    self.lastLevelMisses = lastLevelMisses
  }
}
