/// Identifies one registration on one bus. Never reused by that bus.
public struct RegistrationID: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The bus-unique number.
  public let rawValue: UInt64

  /// Wraps a raw identifier.
  @inlinable
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// Orders identifiers as the bus issued them: a smaller one was registered earlier.
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

  /// `#N`, as messages show it.
  public var description: String { "#\(rawValue)" }
}

/// Which written values a value-matched registration claims (KVM's ioeventfd datamatch).
public enum ValueMatch: Hashable, Sendable {
  /// Any value.
  case any
  /// Only this value, compared with the low `size` bytes of the write.
  case value(UInt64)
}

/// What a registration covers.
public enum RegistrationKind: Hashable, Sendable {
  /// Every access of 1 to 8 bytes that lies entirely inside `[base, base + length)`, reads
  /// and writes.
  case range(base: UInt64, length: UInt64)
  /// Writes at exactly `address` whose size is `size` (or any size from 1 to 8 when `size`
  /// is 0) and whose value matches `match`. Value-matched entries never see reads.
  case valueMatch(address: UInt64, size: Int, match: ValueMatch)

  /// The same kind at another address: the base of a range, the address of a value match.
  func moved(to address: UInt64) -> RegistrationKind {
    switch self {
    case .range(_, let length): .range(base: address, length: length)
    case .valueMatch(_, let size, let match):
      .valueMatch(address: address, size: size, match: match)
    }
  }
}

/// A device's place on a bus, returned by `register` and handed back to `unregister`.
///
/// Only a bus makes them (the initializer is not public), and each names the bus that made
/// it: handing one to another bus is ``IOBusError/registrationFromAnotherBus(_:)``, never a
/// silent removal of whatever that bus registered under the same number.
public struct Registration: Hashable, Sendable, CustomStringConvertible {
  /// The bus-unique identifier, also reported by ``DispatchResult/claimed(_:)``.
  public let id: RegistrationID
  /// The addresses (and values) it claims.
  public let kind: RegistrationKind
  /// The bus that issued it.
  public let bus: BusIdentity

  /// Package access: buses, and the test models that predict them, make registrations.
  package init(id: RegistrationID, kind: RegistrationKind, bus: BusIdentity) {
    self.id = id
    self.kind = kind
    self.bus = bus
  }

  /// The identifier and what it covers, for messages: `registration #1 [0x3f8, +0x8)`, or
  /// `registration #2 at 0xfeb00050 size 4 value 0x2`.
  public var description: String { "registration \(id) \(kind.place)" }
}

extension RegistrationKind {
  /// What the kind covers, for messages: `[0x3f8, +0x8)`, `at 0xfeb00050 size 4 value 0x2`,
  /// `at 0x10 size 0 any value`.
  var place: String {
    switch self {
    case .range(let base, let length):
      return "[\(hex(base)), +\(hex(length)))"
    case .valueMatch(let address, let size, let match):
      let value: String
      switch match {
      case .any: value = "any value"
      case .value(let v): value = "value \(hex(v))"
      }
      return "at \(hex(address)) size \(size) \(value)"
    }
  }
}

/// Which entry, if any, took a guest write.
public enum DispatchResult: Hashable, Sendable {
  /// The registration whose device accepted the write.
  case claimed(RegistrationID)
  /// Nothing on the bus accepted it: the VMM handles it (or ignores it) itself.
  case unclaimed
}
