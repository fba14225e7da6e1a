/// Something outside the checks went wrong (a descriptor limit, a thread that would not
/// start, an option out of range): reported with exit status 2, never as a verdict.
public struct SetupFailure: Error, Sendable, CustomStringConvertible {
  /// What went wrong, for the user.
  public let message: String

  /// A failure described by `message`.
  public init(message: String) { self.message = message }

  public var description: String { message }
}
