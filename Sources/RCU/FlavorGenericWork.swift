/// Work generic over the RCU flavor, run with the flavor a name chooses at run time
/// (``RCUFlavorName/run(_:)``): the work is called with the flavor's concrete type, so it
/// specializes for that flavor as if it had been written for it.
public protocol FlavorGenericWork {
  /// What the work returns.
  associatedtype Output
  /// What the work throws: `Never` for a work that cannot fail.
  associatedtype Failure: Error = any Error

  /// Runs the work on `flavor`.
  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws(Failure) -> Output
}
