extension IOBusError {
  /// One side of a conflict in the table an update would end with, named by what the caller
  /// knows of it: a registration it holds, or what it asked the batch to register.
  ///
  /// A batch is judged on its end state, so a conflict may involve entries that never
  /// reached the bus: those are named by their range (or address), never by the identifier
  /// the failed batch handed out for them, which names nothing on the bus.
  public enum Entry: Hashable, Sendable, CustomStringConvertible {
    /// A registration on the bus that the update left in place.
    case registered(Registration)
    /// A registration on the bus that the update moved (possibly several times): the
    /// registration as it is on the bus, and where the update would put it.
    case moved(Registration, to: RegistrationKind)
    /// An entry the update registers: what it covers.
    case new(RegistrationKind)

    /// `registration #1 [0x3f8, +0x8)`, `registration #2 [0x1000, +0x100) moved to
    /// [0x2000, +0x100)`, `new [0x2000, +0x100)` or `new at 0x10 size 4 value 0x2`.
    public var description: String {
      switch self {
      case .registered(let registration): "\(registration)"
      case .moved(let registration, let kind): "\(registration) moved to \(kind.place)"
      case .new(let kind): "new \(kind.place)"
      }
    }
  }
}
