/// A number that JSON holds as `null` when it is not finite: the median of no samples is NaN,
/// which JSON cannot write (a writer starved of every update still has a report).
@propertyWrapper
public struct FiniteOrNull: Codable, Sendable, Equatable {
  /// The number; NaN when the JSON held `null`.
  public var wrappedValue: Double

  /// Wraps `wrappedValue`.
  public init(wrappedValue: Double) { self.wrappedValue = wrappedValue }

  /// Reads a number, or `null` as NaN.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    wrappedValue = container.decodeNil() ? .nan : try container.decode(Double.self)
  }

  /// Whether the two are the same figure: equal, or both NaN (both `null` in JSON).
  public static func == (lhs: FiniteOrNull, rhs: FiniteOrNull) -> Bool {
    lhs.wrappedValue == rhs.wrappedValue || (lhs.wrappedValue.isNaN && rhs.wrappedValue.isNaN)
  }

  /// Writes the number, or `null` when it is NaN or infinite.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    if wrappedValue.isFinite {
      try container.encode(wrappedValue)
    } else {
      try container.encodeNil()
    }
  }
}
