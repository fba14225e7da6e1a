/// One measured section, whatever its type: its result with the text and figures made from it.
public struct SectionResult: Sendable {
  /// The section's key in the JSON report.
  public let key: String
  /// The section's `Result`.
  public let value: any Codable & Sendable
  /// The section's part of the text report.
  public let text: String
  /// What `Scripts/plot.py` draws from it.
  public let figures: SectionFigures

  /// `section`'s result `value`, rendered and drawn with `settings`.
  public init<Section: BenchSection>(
    _ section: Section, _ value: Section.Result, settings: BenchSettings
  ) {
    key = section.key
    self.value = value
    text = section.render(value)
    figures = section.figures(value, settings: settings)
  }
}

extension BenchSection {
  /// This section's result in a JSON report's top-level `container`, if the run measured it.
  func decodeResult(
    from container: KeyedDecodingContainer<JSONKey>, settings: BenchSettings
  ) throws -> SectionResult? {
    let key = JSONKey(key)
    guard container.contains(key) else { return nil }
    return SectionResult(self, try container.decode(Result.self, forKey: key), settings: settings)
  }
}

/// A coding key made of any string: the JSON report's top-level keys (fixed ones, and the
/// sections'), and the keys of results that keep rows in dictionaries.
struct JSONKey: CodingKey {
  let stringValue: String
  var intValue: Int? { nil }

  init(_ string: String) { stringValue = string }
  init?(stringValue: String) { self.init(stringValue) }
  init?(intValue: Int) { nil }

  static let machine = JSONKey("machine")
  static let targets = JSONKey("targets")
  static let totalSeconds = JSONKey("totalSeconds")
  static let figures = JSONKey("figures")
}
