/// One run of benchmark sections: measures them in order, judges their targets, and times
/// the whole.
public struct BenchRun: Sendable {
  /// What the run was asked for.
  public let settings: BenchSettings
  /// The machine as the run began.
  public let machine: MachineInfo
  private let began = monotonicNanos()

  /// A run with `settings`, beginning now.
  public init(settings: BenchSettings) {
    self.settings = settings
    machine = MachineInfo(settings: settings)
  }

  /// The line the tool prints before measuring anything.
  public var headline: String {
    "stress bench: \(settings.cores) cores, \(settings.rounds) rounds of \(settings.seconds) s "
      + "per configuration, load average \(machine.loadAverageAtStart)"
  }

  /// Measures `sections` one after the other, and judges each one's targets.
  public func measure(_ sections: [any BenchSection]) throws -> BenchReport {
    var results: [SectionResult] = []
    var targets: [TargetVerdict] = []
    for section in sections {
      let (result, verdicts) = try measure(section)
      results.append(result)
      targets += verdicts
      settings.progress("\(section.title) done")
    }
    var machine = self.machine
    machine.loadAverageAtEnd = MachineInfo.loadAverage()
    return BenchReport(
      machine: machine, sections: results, targets: targets,
      totalSeconds: Double(monotonicNanos() - began) / 1e9)
  }

  private func measure<Section: BenchSection>(_ section: Section) throws -> (
    SectionResult, [TargetVerdict]
  ) {
    let result = try section.measure(settings)
    return (
      SectionResult(section, result, settings: settings),
      section.judge(result, settings: settings)
    )
  }
}
