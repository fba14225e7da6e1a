/// A target a benchmark judges on every run: a named bound on one measured figure.
///
/// The `judge` methods are the one place that turns a measurement into an outcome, so that
/// every section's targets share one rule: ``judge(rounds:figure:conclusive:)`` for a figure
/// measured once per paired round (a median with a 95% bootstrap interval, `unresolved`
/// when the interval straddles the limit), ``judge(counted:figure:)`` for a figure counted
/// exactly under valgrind, and ``judge(_:figure:conclusive:)`` for a single figure.
public struct Target: Sendable, Hashable {
  /// What the figure must be for the target to be met.
  public struct Bound: Codable, Sendable, Hashable {
    /// How the figure compares with the limit.
    public enum Relation: String, Codable, Sendable, Hashable {
      /// The figure is at most the limit.
      case atMost = "<="
      /// The figure is at least the limit.
      case atLeast = ">="
      /// The figure is below the limit.
      case below = "<"
      /// The figure is the limit.
      case exactly = "=="
    }

    /// How the figure compares with ``limit``.
    public var relation: Relation
    /// The limit itself.
    public var limit: Double

    /// At most `limit`.
    public static func atMost(_ limit: Double) -> Bound { Bound(relation: .atMost, limit: limit) }
    /// At least `limit`.
    public static func atLeast(_ limit: Double) -> Bound { Bound(relation: .atLeast, limit: limit) }
    /// Strictly below `limit`.
    public static func below(_ limit: Double) -> Bound { Bound(relation: .below, limit: limit) }
    /// Exactly `limit`.
    public static func exactly(_ limit: Double) -> Bound { Bound(relation: .exactly, limit: limit) }

    /// Whether `value` keeps the bound.
    public func admits(_ value: Double) -> Bool {
      switch relation {
      case .atMost: value <= limit
      case .atLeast: value >= limit
      case .below: value < limit
      case .exactly: value == limit
      }
    }
  }

  /// What the target says, as the report prints it.
  public var name: String
  /// The bound on the measured figure.
  public var bound: Bound
  /// How narrow an interval must be before more rounds stop being worth their time: the
  /// precision the target asks for (for "at most 1.02x the floor", 0.02).
  public var margin: Double

  /// The target `name`, met when the figure keeps `bound`. `margin` defaults to the
  /// limit's distance from 1, what a target on a ratio resolves (at least 0.01); a target on
  /// another kind of figure states its own.
  public init(_ name: String, _ bound: Bound, margin: Double? = nil) {
    self.name = name
    self.bound = bound
    self.margin = margin ?? Swift.max(abs(bound.limit - 1), 0.01)
  }

  /// The verdict on `value`: met when it was measured (a NaN or infinite figure, made of no
  /// samples or a zero, was not), the measurement could tell (`conclusive`: it exercised
  /// enough for the figure to mean something) and the bound admits it; missed otherwise.
  /// `figure` is the measurement as the report shows it.
  public func judge(_ value: Double?, figure: String, conclusive: Bool = true) -> TargetVerdict {
    let value = value.flatMap { $0.isFinite ? $0 : nil }
    let met = value.map { conclusive && bound.admits($0) } ?? false
    return TargetVerdict(
      name: name, figure: figure, value: value, bound: bound, outcome: met ? .met : .missed)
  }
}

extension Target {
  /// The verdict on a figure measured once per paired round (`rounds`, one value each, every
  /// design of the round measured side by side): the median, with a 95% bootstrap interval
  /// of the median. Met when the whole interval keeps the bound, missed when none of it
  /// does (or the run could not tell: `conclusive` false, or no finite value), unresolved
  /// when it straddles the limit. `figure` is the measurement as the report shows it.
  public func judge(rounds: [Double], figure: String, conclusive: Bool = true) -> TargetVerdict {
    let values = rounds.filter(\.isFinite)
    guard conclusive, let interval = BootstrapInterval.median(of: values) else {
      return judge(nil, figure: figure)
    }
    let median = Spread(values).median
    return TargetVerdict(
      name: name, figure: figure, value: median, bound: bound,
      interval: TargetVerdict.Interval(lower: interval.lower, upper: interval.upper, level: 0.95),
      outcome: outcome(of: interval), margin: margin)
  }

  /// The verdict on a figure counted under valgrind: exact and the same on every run, so
  /// met or missed with no interval.
  public func judge(counted value: Double?, figure: String) -> TargetVerdict {
    var verdict = judge(value, figure: figure)
    verdict.basis = .counted
    return verdict
  }

  /// Met when both ends keep the bound, missed when neither does, unresolved otherwise.
  private func outcome(of interval: (lower: Double, upper: Double)) -> TargetVerdict.Outcome {
    switch (bound.admits(interval.lower), bound.admits(interval.upper)) {
    case (true, true):
      // For `exactly`, both ends equal to the limit: the interval is the limit itself.
      .met
    case (false, false):
      // Both ends out, and for `exactly` the limit not between them either.
      bound.relation == .exactly && interval.lower < bound.limit && bound.limit < interval.upper
        ? .unresolved : .missed
    default: .unresolved
    }
  }
}
