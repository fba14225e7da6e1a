/// An enum whose cases carry values, so Swift gives it no raw values, but which has a name
/// for each case, on the command line and in JSON: `allCases` lists the cases, `rawValue`
/// names one, and a name finds its case.
protocol NamedCases: CaseIterable, RawRepresentable where RawValue == String {}

extension NamedCases {
  /// The case named `rawValue`, if there is one.
  public init?(rawValue: String) {
    guard let named = Self.allCases.first(where: { $0.rawValue == rawValue }) else {
      return nil
    }
    self = named
  }
}
