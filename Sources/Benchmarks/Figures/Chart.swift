/// A chart: a PNG file of one or more panels under one title.
public struct Chart: Codable, Sendable, Equatable {
  /// The file the chart is written to, in the output folder.
  public var file: String
  /// The title above every panel.
  public var title: String
  /// Panels per row; nil puts them all in one row.
  public var columns: Int?
  /// The panels, row by row.
  public var panels: [ChartPanel]

  /// A chart of `panels`.
  public init(file: String, title: String, columns: Int? = nil, panels: [ChartPanel]) {
    self.file = file
    self.title = title
    self.columns = columns
    self.panels = panels
  }
}
