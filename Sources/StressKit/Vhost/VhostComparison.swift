import Foundation
import KVM

/// `stress vhost --compare`: the same block guests, no churn, with kicks through the bus
/// (mirrored into KVM_IOEVENTFD) and through a plain KVM ioeventfd assigned by hand, in
/// alternating runs of the same length; and, for scale, through the bus alone.
public struct VhostComparison: CheckReport, Encodable, Sendable {
  /// One path's runs.
  public struct Path: Codable, Sendable {
    /// The kick path.
    public let name: String
    /// Each run's requests per second of guest time.
    public let requestsPerSecond: [Double]
    /// Each run's median latency, kick to interrupt.
    public let p50Nanoseconds: [UInt64]
    /// Each run's 99th percentile.
    public let p99Nanoseconds: [UInt64]
  }

  /// `vhost --compare`.
  public let command = "vhost --compare"
  /// The paths, in the order they ran within each repeat.
  public let paths: [Path]
  /// Median requests/s through the bus over the plain ioeventfd's, with the range of the
  /// per-repeat ratios.
  public let throughputRatio: Double
  /// The lowest and highest per-repeat ratio.
  public let throughputRatioRange: [Double]
  /// Requests each path completed, against a minimum.
  public let work: [WorkMeasure]
  /// Anything a run's checks found.
  public let violations: [ViolationSummary]

  /// Runs `repeats` alternating runs of each path, each `configuration.duration` long.
  public static func run(system: KVMSystem, configuration: VhostConfiguration, repeats: Int)
    throws -> VhostComparison
  {
    var measured = configuration
    measured.switchesPerSecond = 0
    measured.guestChurnEvery = 0
    measured.fault = .none
    var reports: [KickPath: [VhostReport]] = [:]
    for _ in 0..<repeats {
      for path in KickPath.allCases {
        let report = try VhostStress.run(system: system, configuration: measured, path: path)
        if let problem = report.backendProblem {
          return VhostComparison(failure: problem)
        }
        reports[path, default: []].append(report)
      }
    }
    return VhostComparison(reports: reports)
  }

  private init(failure: String) {
    paths = []
    throughputRatio = 0
    throughputRatioRange = []
    work = [WorkMeasure("back end available (\(failure))", done: 0, required: 1)]
    violations = []
  }

  private init(reports: [KickPath: [VhostReport]]) {
    paths = KickPath.allCases.map { path in
      let runs = reports[path] ?? []
      return Path(
        name: path.rawValue, requestsPerSecond: runs.map(\.requestsPerSecond),
        p50Nanoseconds: runs.map { $0.latency?.p50Nanoseconds ?? 0 },
        p99Nanoseconds: runs.map { $0.latency?.p99Nanoseconds ?? 0 })
    }
    let bus = reports[.busMirrored] ?? []
    let plain = reports[.kernelByHand] ?? []
    let ratios = zip(bus, plain).map {
      $1.requestsPerSecond > 0 ? $0.requestsPerSecond / $1.requestsPerSecond : 0
    }.sorted()
    throughputRatio =
      median(bus.map(\.requestsPerSecond)) / max(median(plain.map(\.requestsPerSecond)), 1e-9)
    throughputRatioRange = ratios.isEmpty ? [] : [ratios.first!, ratios.last!]
    work = KickPath.allCases.map { path in
      WorkMeasure(
        "requests via \(path.rawValue)",
        done: UInt64((reports[path] ?? []).map(\.requests).reduce(0, +)), required: 1000)
    }
    var found: [ViolationKind: ViolationSummary] = [:]
    for report in reports.values.joined() {
      for summary in report.violations where found[summary.kind] == nil {
        found[summary.kind] = summary
      }
    }
    violations = found.keys.sorted().map { found[$0]! }
  }

  public var text: String {
    var lines = [
      "stress vhost --compare: requests/s and kick-to-interrupt latency, median of \(paths.first?.requestsPerSecond.count ?? 0) alternating runs"
    ]
    for path in paths {
      lines.append(
        "  \(path.name): "
          + String(
            format: "%.0f requests/s (%.0f-%.0f), p50 %.0f us, p99 %.0f us",
            median(path.requestsPerSecond), path.requestsPerSecond.min() ?? 0,
            path.requestsPerSecond.max() ?? 0,
            median(path.p50Nanoseconds.map(Double.init)) / 1000,
            median(path.p99Nanoseconds.map(Double.init)) / 1000))
    }
    if !throughputRatioRange.isEmpty {
      lines.append(
        String(
          format:
            "  bus / plain ioeventfd: %.3fx requests/s (per-repeat ratios %.3f to %.3f; target >= 0.95)",
          throughputRatio, throughputRatioRange[0], throughputRatioRange[1]))
    }
    return (lines + outcome.lines).joined(separator: "\n")
  }
}

private func median(_ values: [Double]) -> Double {
  guard !values.isEmpty else { return 0 }
  let sorted = values.sorted()
  return sorted.count % 2 == 1
    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
