extension IOBusError: CustomStringConvertible {
  /// The case and its payload as registrations print: addresses, lengths and values in
  /// hex, ranges as `[0xffff, +0x2)`; for example
  /// `rangesOverlap(registration #1 [0x3f8, +0x8), new [0x3fc, +0x8))` or
  /// `outsideAddressSpace([0xffff, +0x2))`.
  public var description: String {
    switch self {
    case .emptyRange: "emptyRange"
    case .rangeWrapsAround(let base, let length):
      "rangeWrapsAround(\(RegistrationKind.range(base: base, length: length).place))"
    case .outsideAddressSpace(let base, let length):
      "outsideAddressSpace(\(RegistrationKind.range(base: base, length: length).place))"
    case .rangesOverlap(let first, let second): "rangesOverlap(\(first), \(second))"
    case .invalidSize(let size): "invalidSize(\(size))"
    case .valueMatchNeedsSize: "valueMatchNeedsSize"
    case .anySizeOnPortIO: "anySizeOnPortIO"
    case .valueTooWide(let value, let size): "valueTooWide(value: \(hex(value)), size: \(size))"
    case .matchesCollide(let first, let second): "matchesCollide(\(first), \(second))"
    case .tableFull(let limit): "tableFull(limit: \(limit))"
    case .unknownRegistration(let registration): "unknownRegistration(\(registration))"
    case .registrationFromAnotherBus(let registration):
      "registrationFromAnotherBus(\(registration) of \(registration.bus))"
    case .insideReadSection: "insideReadSection"
    case .insideUpdate: "insideUpdate"
    }
  }
}

/// `0x3f8`: how messages print addresses, lengths and values.
func hex(_ value: UInt64) -> String {
  "0x\(String(value, radix: 16))"
}
