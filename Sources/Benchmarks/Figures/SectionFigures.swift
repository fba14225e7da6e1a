/// What `Scripts/plot.py` draws from one section: Markdown tables for `summary.md` and charts,
/// each described in full, so that the script knows no section.
public struct SectionFigures: Codable, Sendable, Equatable {
  /// Tables for `summary.md`, in order.
  public var tables: [FigureTable]
  /// Charts; charts of several sections that name the same file are drawn as one, their
  /// panels side by side in report order.
  public var charts: [Chart]

  /// Figures made of `tables` and `charts`.
  public init(tables: [FigureTable] = [], charts: [Chart] = []) {
    self.tables = tables
    self.charts = charts
  }

  /// A section's figures as the JSON report lists them: with the section's key.
  struct Keyed: Encodable {
    let section: String
    let figures: SectionFigures

    private enum CodingKeys: String, CodingKey { case section, tables, charts }

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(section, forKey: .section)
      try container.encode(figures.tables, forKey: .tables)
      try container.encode(figures.charts, forKey: .charts)
    }
  }
}
