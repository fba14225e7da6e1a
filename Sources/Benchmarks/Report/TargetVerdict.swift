/// A target judged on one run: what was measured and whether it keeps the bound.
public struct TargetVerdict: Codable, Sendable, Equatable {
  /// What a judged target came to.
  public enum Outcome: String, Codable, Sendable, Hashable {
    /// The figure keeps the bound.
    case met
    /// The figure breaks the bound, was not measured, or the run could not tell.
    case missed
    /// The figure's interval straddles the limit: this run cannot say which side it is on.
    case unresolved

    /// The outcome as the text report's verdict column shows it.
    public var label: String {
      switch self {
      case .met: "MET       "
      case .missed: "MISSED    "
      case .unresolved: "UNRESOLVED"
      }
    }
  }

  /// How the figure was obtained.
  public enum Basis: String, Codable, Sendable, Hashable {
    /// Timed on the clock, once or once per round.
    case timed
    /// Counted under valgrind: instructions, branches, simulated misses.
    case counted
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
  /// The figure's interval estimate, when the run made one (a figure measured per round).
  public var interval: Interval?
  /// What the target came to.
  public var outcome: Outcome
  /// Whether the figure was timed or counted.
  public var basis: Basis
  /// The target's margin (``Target/margin``), for a verdict with an interval.
  public var margin: Double?
  /// Whether the target was met: the outcome, kept in JSON for readers of older reports.
  public private(set) var met: Bool

  /// A verdict; see ``Target/judge(_:figure:conclusive:)``.
  public init(
    name: String, figure: String, value: Double?, bound: Target.Bound, interval: Interval? = nil,
    outcome: Outcome, basis: Basis = .timed, margin: Double? = nil
  ) {
    self.name = name
    self.figure = figure
    self.value = value
    self.bound = bound
    self.interval = interval
    self.outcome = outcome
    self.basis = basis
    self.margin = margin
    met = outcome == .met
  }

  /// Whether more rounds would be wasted on the figure: it has no interval, the interval
  /// no longer straddles the limit, or it is already narrower than the target's margin.
  public var isSettled: Bool {
    guard let interval, outcome == .unresolved else { return true }
    return interval.upper - interval.lower < (margin ?? 0)
  }

  /// The figure with its interval, as the text report and the targets table show it:
  /// `1.12x (19.19 vs 17.16 ns) [95%: 1.04-1.21]`, or the figure alone.
  public var figureWithInterval: String {
    guard let interval else { return basis == .counted ? "\(figure) (counted)" : figure }
    return "\(figure) [\(Int((interval.level * 100).rounded()))%: "
      + "\(significant(interval.lower))-\(significant(interval.upper))]"
  }
}

extension TargetVerdict {
  private enum CodingKeys: String, CodingKey {
    case name, figure, value, bound, interval, outcome, basis, margin, met
  }

  /// Reads a verdict; one from a report older than the counted figures is timed.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      name: try container.decode(String.self, forKey: .name),
      figure: try container.decode(String.self, forKey: .figure),
      value: try container.decodeIfPresent(Double.self, forKey: .value),
      bound: try container.decode(Target.Bound.self, forKey: .bound),
      interval: try container.decodeIfPresent(Interval.self, forKey: .interval),
      outcome: try container.decode(Outcome.self, forKey: .outcome),
      basis: try container.decodeIfPresent(Basis.self, forKey: .basis) ?? .timed,
      margin: try container.decodeIfPresent(Double.self, forKey: .margin))
  }
}

/// `value` with three significant digits (at least two decimals below 10): an interval's
/// ends, whatever the figure's unit.
func significant(_ value: Double) -> String {
  guard value.isFinite else { return "-" }
  let magnitude = abs(value)
  let digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 0.1 ? 2 : 4
  return String(format: "%.\(digits)f", value)
}
