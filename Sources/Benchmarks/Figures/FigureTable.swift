/// A Markdown table: an optional heading, a header row, rows of ready-made cells, and notes
/// (paragraphs) after it.
public struct FigureTable: Codable, Sendable, Equatable {
  /// A column's header and the side its cells align to.
  public struct Column: Codable, Sendable, Equatable {
    /// The header cell.
    public var title: String
    /// Whether the cells align right (numbers) rather than left.
    public var alignRight: Bool

    /// A column headed `title`.
    public init(_ title: String, alignRight: Bool = true) {
      self.title = title
      self.alignRight = alignRight
    }
  }

  /// The heading above the table (`### title`), if any.
  public var title: String?
  /// The columns.
  public var columns: [Column]
  /// The rows, each with one cell per column.
  public var rows: [[String]]
  /// Paragraphs after the table.
  public var notes: [String]

  /// A table whose first `labels` columns (aligned left) are named in `columns` before the
  /// others (aligned right).
  public init(
    title: String?, columns: [String], labels: Int = 1, rows: [[String]] = [],
    notes: [String] = []
  ) {
    self.title = title
    self.columns = columns.enumerated().map { Column($1, alignRight: $0 >= labels) }
    self.rows = rows
    self.notes = notes
  }
}
