/// A target a benchmark judges on every run: a named bound on one measured figure.
///
/// ``judge(_:figure:conclusive:)`` is the one place that turns a measurement into an outcome,
/// so that every section's targets gain together what it learns (an interval estimate and an
/// `unresolved` outcome when the interval straddles the bound, or figures counted rather
/// than timed): the sections only say what they measured.
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

  /// The target `name`, met when the figure keeps `bound`.
  public init(_ name: String, _ bound: Bound) {
    self.name = name
    self.bound = bound
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
