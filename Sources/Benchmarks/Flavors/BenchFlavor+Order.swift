extension BenchFlavor {
  /// The flavor's place in reports.
  var order: Int { Self.allCases.firstIndex(of: self)! }
}
