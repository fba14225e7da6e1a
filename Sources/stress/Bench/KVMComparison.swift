import Benchmarks
import Foundation
import KVM
import RCU
import StressKit

/// What `stress kvm --compare` measures and prints: the exit paths on the chosen flavor,
/// then coalesced writes against exits and kernel ioeventfds.
struct KVMComparison: Encodable {
  let command = "kvm --compare"
  let comparison: ExitPathComparison
  let coalesced: CoalescedWriteComparison

  /// Inputs of a run; `run(_:)` measures on the flavor `FlavorChoice.run` hands it.
  struct Measurement: FlavorGenericWork {
    let system: KVMSystem
    let iterations: Int
    let repeats: Int
    let devices: Int

    func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> KVMComparison {
      KVMComparison(
        comparison: try ExitPathComparison.run(
          system: system, flavor: flavor, iterations: iterations, repeats: repeats,
          devices: devices),
        coalesced: try CoalescedWriteComparison.run(
          system: system, flavor: flavor, iterations: iterations, repeats: repeats))
    }
  }

  /// The report as `stress kvm --compare` prints it.
  var text: String {
    let result = comparison
    var lines = [
      """
      stress kvm --compare: 1 vCPU, \(result.iterations) 4-byte port writes per run, \
      \(result.repeats) alternating repeats, \(result.devices) other eventfd registrations on \
      the port, flavor \(result.flavor)
        (a) bare exit, trivial handler:      \(rate(result.bareExit))
        (b) exit + bus dispatch:             \(rate(result.busDispatch))
        (c) kernel ioeventfd via the mirror: \(rate(result.kernelIOEventFD))
            raw KVM_IOEVENTFD, no bus:       \(rate(result.rawKernelIOEventFD))
        b/a   = \(ratio(result.busOverBare))   (rates; target >= 0.99: \
      \(judged(result.busOverBare, .atLeast(0.99))))
        time per write b/a = \(ratio(result.busCostOverBare))   target <= 1.01: \
      \(judged(result.busCostOverBare, .atMost(1.01)))
        bus dispatch alone (handler called directly, no exit): \
      \(String(format: "%.1f", result.busDispatchNanoseconds)) ns per write = \
      \(String(format: "%.3f", result.busDispatchShareOfExit * 100))% of a bare exit
        thread hooks per exit (offline before KVM_RUN, online after; called directly): \
      \(String(format: "%.1f", result.threadHookNanoseconds)) ns
        c/a   = \(ratio(result.kernelOverBare))
        c/raw = \(ratio(result.kernelOverRaw))   target >= 0.95: \
      \(judged(result.kernelOverRaw, .atLeast(0.95)))
      coalesced writes: 1 vCPU, \(coalesced.iterations) sequenced 4-byte writes per run, \
      values and order checked on (x) and (y), count on (z)
      """
    ]
    for row in coalesced.rates {
      lines.append(
        """
          \(row.space):
            (x) exit + bus dispatch:        \(rate(row.exitToBus))
            (y) coalesced, applied via bus: \(rate(row.coalesced)), \
        \(String(format: "%.2f", row.coalescedExitsPerThousand)) exits per 1000 writes
            (z) kernel ioeventfd:           \(rate(row.kernelIOEventFD))
            y/z = \(ratio(row.coalescedOverIOEventFD))   target >= 0.9: \
        \(judged(row.coalescedOverIOEventFD, .atLeast(0.9)))
            y/x = \(ratio(row.coalescedOverExit))
            z/x = \(ratio(row.ioeventfdOverExit))
        """)
    }
    lines.append("targets (per repeat: median, 95% bootstrap interval):")
    for target in comparison.targets + coalesced.targets {
      lines.append("  [\(target.outcome.label)] \(target.name): \(target.figureWithInterval)")
    }
    return lines.joined(separator: "\n")
  }

  private func rate(_ summary: RepeatSummary) -> String {
    "\(whole(summary.median)) writes/s (min \(whole(summary.min)), max \(whole(summary.max)))"
  }

  private func ratio(_ summary: RepeatSummary) -> String {
    String(format: "%.4f (min %.4f, max %.4f)", summary.median, summary.min, summary.max)
  }

  /// MET or MISSED for the median of `summary` against `bound` (a figure, judged like a
  /// benchmark target; the run's verdict rests on its counts, not on these).
  private func judged(_ summary: RepeatSummary, _ bound: Target.Bound) -> String {
    Target("", bound).judge(summary.median, figure: "").outcome.label
      .trimmingCharacters(in: .whitespaces)
  }

  private func whole(_ value: Double) -> String { String(format: "%.0f", value) }

  private enum CodingKeys: String, CodingKey { case command, comparison, coalesced }
}
