/// One panel of a chart: lines over a numeric axis, or groups of bars over categories.
public struct ChartPanel: Codable, Sendable, Equatable {
  /// How the series are drawn.
  public enum Kind: String, Codable, Sendable {
    /// Each series a line with markers and min-max error bars, over numeric x.
    case lines
    /// Each series one bar per category (x is the category's index), side by side.
    case bars
  }

  /// How the series are drawn.
  public var kind: Kind
  /// The panel's title.
  public var title: String
  /// The x axis's label, if any.
  public var xLabel: String?
  /// The y axis's label.
  public var yLabel: String
  /// Whether x is on a log scale.
  public var logX: Bool
  /// Where x ticks go (lines), if not where the plotting library puts them.
  public var xTicks: [Double]?
  /// The categories' names (bars).
  public var categories: [String]?
  /// A horizontal reference line: the target's bound.
  public var guide: Double?
  /// Whether the panel shows a legend.
  public var legend: Bool
  /// The series.
  public var series: [ChartSeries]

  /// A panel of lines: y from 0, over numeric x.
  public static func lines(
    title: String, xLabel: String, yLabel: String, logX: Bool = false, xTicks: [Double]? = nil,
    legend: Bool, series: [ChartSeries]
  ) -> ChartPanel {
    ChartPanel(
      kind: .lines, title: title, xLabel: xLabel, yLabel: yLabel, logX: logX, xTicks: xTicks,
      categories: nil, guide: nil, legend: legend, series: series)
  }

  /// A panel of bars, one group per category, one bar per series in each.
  public static func bars(
    title: String, yLabel: String, categories: [String], guide: Double? = nil,
    series: [ChartSeries]
  ) -> ChartPanel {
    ChartPanel(
      kind: .bars, title: title, xLabel: nil, yLabel: yLabel, logX: false, xTicks: nil,
      categories: categories, guide: guide, legend: true, series: series)
  }
}
