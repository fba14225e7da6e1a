/// A target judged on one run: what was measured and whether it keeps the bound.
public struct TargetVerdict: Codable, Sendable, Equatable {
  /// What a judged target came to.
  public enum Outcome: String, Codable, Sendable, Hashable {
    /// The figure keeps the bound.
    case met
    /// The figure breaks the bound, was not measured, or the run could not tell.
    case missed

    /// The outcome as the text report's verdict column shows it.
    public var label: String {
      switch self {
      case .met: "MET   "
      case .missed: "MISSED"
      }
    }
  }

  /// A range the figure lies in with a stated confidence, when the run estimated one.
  public struct Interval: Codable, Sendable, Equatable {
    /// The lower end.
    public var lower: Double
    /// The upper end.
    public var upper: Double
    /// The confidence level, for example 0.95.
    public var level: Double
  }

  /// What the target says.
  public var name: String
  /// The measurement as the report shows it (the figure and what it was computed from).
  public var figure: String
  /// The figure compared with the bound; nil when it was not measured.
  public var value: Double?
  /// The bound the figure was held to.
  public var bound: Target.Bound
  /// The figure's interval estimate, when the run made one; none does yet.
  public var interval: Interval?
  /// What the target came to.
  public var outcome: Outcome
  /// Whether the target was met: the outcome, kept in JSON for readers of older reports.
  public private(set) var met: Bool

  /// A verdict; see ``Target/judge(_:figure:conclusive:)``.
  public init(
    name: String, figure: String, value: Double?, bound: Target.Bound, interval: Interval? = nil,
    outcome: Outcome
  ) {
    self.name = name
    self.figure = figure
    self.value = value
    self.bound = bound
    self.interval = interval
    self.outcome = outcome
    met = outcome == .met
  }
}
