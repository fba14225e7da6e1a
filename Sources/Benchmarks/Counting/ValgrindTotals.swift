/// What valgrind counted in one run of a program (callgrind: in the functions it collected
/// in): the summary cachegrind and callgrind print with `--cache-sim=yes --branch-sim=yes`.
public struct ValgrindTotals: Codable, Sendable, Equatable {
  /// Instructions executed (`I refs`).
  public var instructions: UInt64
  /// Data reads and writes (`D refs`).
  public var dataAccesses: UInt64
  /// Instruction fetches that missed the simulated first-level instruction cache.
  public var level1InstructionMisses: UInt64
  /// Data accesses that missed the simulated first-level data cache (`D1 misses`).
  public var level1DataMisses: UInt64
  /// Accesses that missed the simulated last-level cache, instructions and data (`LL
  /// misses`): what would go to memory.
  public var lastLevelMisses: UInt64
  /// Conditional and indirect branches executed.
  public var branches: UInt64
  /// Branches the simulated predictor mispredicted.
  public var mispredicts: UInt64

  /// The totals with every count given.
  public init(
    instructions: UInt64, dataAccesses: UInt64, level1InstructionMisses: UInt64,
    level1DataMisses: UInt64, lastLevelMisses: UInt64, branches: UInt64, mispredicts: UInt64
  ) {
    self.instructions = instructions
    self.dataAccesses = dataAccesses
    self.level1InstructionMisses = level1InstructionMisses
    self.level1DataMisses = level1DataMisses
    self.lastLevelMisses = lastLevelMisses
    self.branches = branches
    self.mispredicts = mispredicts
  }

  /// The totals in valgrind's summary (`==PID== I   refs:      1,234,567` and the like);
  /// nil when one is missing (a run without `--cache-sim=yes --branch-sim=yes`, or one that
  /// died before printing it).
  public init?(summary: String) {
    var counts: [String: UInt64] = [:]
    for line in summary.split(separator: "\n") {
      // "==12345== D1  misses:      1,561  ( 1,218 rd   +    343 wr)": the label runs to
      // the first colon after the PID marker, the total is the first number after it.
      guard let marker = line.range(of: "== "), let colon = line.range(of: ":") else {
        continue
      }
      let label = line[marker.upperBound..<colon.lowerBound].split(separator: " ").joined(
        separator: " ")
      guard let first = line[colon.upperBound...].split(separator: " ").first,
        let count = UInt64(first.filter { $0 != "," })
      else { continue }
      counts[label] = count
    }
    guard let instructions = counts["I refs"], let data = counts["D refs"],
      let instructionMisses = counts["I1 misses"], let dataMisses = counts["D1 misses"],
      let lastLevel = counts["LL misses"], let branches = counts["Branches"],
      let mispredicts = counts["Mispredicts"]
    else { return nil }
    self.init(
      instructions: instructions, dataAccesses: data, level1InstructionMisses: instructionMisses,
      level1DataMisses: dataMisses, lastLevelMisses: lastLevel, branches: branches,
      mispredicts: mispredicts)
  }
}
