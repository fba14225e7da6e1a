/// Why a probe (a child process run under strace or valgrind) could not count.
public struct ProbeFailure: Error, Sendable, CustomStringConvertible {
  /// What went wrong, as the report prints it.
  public let description: String

  /// A failure saying `description`.
  public init(_ description: String) { self.description = description }
}
