/// One section of `stress bench`: a measurement, its part of the text report, the targets it
/// judges and the tables and charts `Scripts/plot.py` draws from it.
///
/// A section is one file. To add one, conform a type to this protocol and list it in
/// ``BenchSections/all``; the command's `--only`, the text and JSON reports, the targets and
/// the charts all follow from there.
public protocol BenchSection: Sendable {
  /// What the section measures, as the JSON report holds it.
  associatedtype Result: Codable & Sendable

  /// The result's key in the JSON report; unique among the sections.
  var key: String { get }

  /// The word `stress bench --only` selects the section by (several may share one).
  var option: String { get }

  /// What progress lines call the section.
  var title: String { get }

  /// Measures, on the calling thread and the threads it starts, as `settings` ask.
  func measure(_ settings: BenchSettings) throws -> Result

  /// The section's part of the text report: a blank line, then its lines; empty when there
  /// is nothing to show.
  func render(_ result: Result) -> String

  /// The section's targets, judged on `result` (those whose figures were measured).
  func judge(_ result: Result, settings: BenchSettings) -> [TargetVerdict]

  /// The tables and charts `Scripts/plot.py` draws from `result`.
  func figures(_ result: Result, settings: BenchSettings) -> SectionFigures
}

extension BenchSection {
  /// By default `--only` takes the section's key.
  public var option: String { key }
}
