/// One series of a panel: points, optionally with error bars, and how to draw it.
public struct ChartSeries: Codable, Sendable, Equatable {
  /// A line's look, in matplotlib's terms.
  public struct Style: Codable, Sendable, Equatable {
    /// A colour name (`"tab:green"`).
    public var color: String
    /// A line style (`"-"`, `"--"`).
    public var dash: String
    /// A marker (`"o"`, `"s"`).
    public var marker: String
  }

  /// The legend's label.
  public var label: String
  /// The points' x (for bars, the category's index).
  public var x: [Double]
  /// The points' y.
  public var y: [Double]
  /// The bottom of each point's error bar, if the series has error bars.
  public var yMin: [Double]?
  /// The top of each point's error bar.
  public var yMax: [Double]?
  /// How the line looks; nil leaves it to the plotting library.
  public var style: Style?

  /// A series of points `(x[i], y[i])`.
  public init(
    label: String, x: [Double], y: [Double], yMin: [Double]? = nil, yMax: [Double]? = nil,
    style: Style? = nil
  ) {
    self.label = label
    self.x = x
    self.y = y
    self.yMin = yMin
    self.yMax = yMax
    self.style = style
  }
}
