/// Everything one `stress bench` run measured and judged; the JSON report and the text report
/// are two views of it.
///
/// The JSON report has `machine`, then each measured section's result under its key
/// (``BenchSection/key``), `targets`, `totalSeconds`, and `figures`: each section's tables and
/// charts, in report order, which `Scripts/plot.py` draws without knowing any section.
public struct BenchReport: Sendable {
  /// Where and how the run happened.
  public var machine: MachineInfo
  /// The sections measured, in report order.
  public var sections: [SectionResult]
  /// Every section's targets, in report order.
  public var targets: [TargetVerdict]
  /// How long the whole run took.
  public var totalSeconds: Double

  /// A report of `sections`.
  public init(
    machine: MachineInfo, sections: [SectionResult], targets: [TargetVerdict],
    totalSeconds: Double
  ) {
    self.machine = machine
    self.sections = sections
    self.targets = targets
    self.totalSeconds = totalSeconds
  }

  /// `section`'s result, if the run measured it.
  public func result<Section: BenchSection>(of section: Section) -> Section.Result? {
    sections.first { $0.key == section.key }?.value as? Section.Result
  }

  /// The text report: each section's part, then the targets and how long the run took.
  public var text: String {
    var text = ReportText(heading: "TARGETS")
    for target in targets {
      text.line("  [\(target.outcome.label)] \(target.name): \(target.figureWithInterval)")
    }
    text.line()
    text.line(
      "total \(fixed(totalSeconds, 1)) s; load average \(fixed(machine.loadAverageAtStart)) "
        + "at the start, \(fixed(machine.loadAverageAtEnd)) at the end")
    return sections.map(\.text).joined() + text.text
  }
}

extension BenchReport: Codable {
  /// Decodes a report written by ``encode(to:)``: each section of ``BenchSections/all``
  /// found in it, its text and figures made again from its result.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: JSONKey.self)
    machine = try container.decode(MachineInfo.self, forKey: .machine)
    let settings = BenchSettings(machine)
    sections = try BenchSections.all.compactMap {
      try $0.decodeResult(from: container, settings: settings)
    }
    targets = try container.decode([TargetVerdict].self, forKey: .targets)
    totalSeconds = try container.decode(Double.self, forKey: .totalSeconds)
  }

  /// Encodes the report as the JSON report describes.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: JSONKey.self)
    try container.encode(machine, forKey: .machine)
    for section in sections {
      try container.encode(section.value, forKey: JSONKey(section.key))
    }
    try container.encode(targets, forKey: .targets)
    try container.encode(totalSeconds, forKey: .totalSeconds)
    try container.encode(
      sections.map { SectionFigures.Keyed(section: $0.key, figures: $0.figures) },
      forKey: .figures)
  }
}
