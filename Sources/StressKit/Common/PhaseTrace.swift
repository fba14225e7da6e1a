import Foundation

/// With `STRESS_TRACE_PHASES=1` in the environment, each phase of a run's end is noted on
/// stderr with its time since the run's budget started (`phase 4.213 s: final barrier`):
/// what to look at when a run comes close to its bound.
enum PhaseTrace {
  static let enabled = ProcessInfo.processInfo.environment["STRESS_TRACE_PHASES"] == "1"

  /// Notes that `phase` begins now, `budget` giving the start.
  static func note(_ phase: @autoclosure () -> String, budget: RunBudget) {
    guard enabled else { return }
    let seconds = Double(monotonicNanoseconds() - budget.started) / 1e9
    FileHandle.standardError.write(
      Data("phase \(String(format: "%.3f", seconds)) s: \(phase())\n".utf8))
  }
}
