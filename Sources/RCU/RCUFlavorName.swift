/// The flavors this package ships, by name: the one table from a name to a flavor's type.
///
/// The stress tool's `--flavor`, the benchmarks' per-flavor rows and the tests run over
/// every flavor all read this table, so a flavor added here is chosen, measured and tested
/// everywhere. ``run(_:)`` hands a generic work the flavor's concrete type.
///
/// ``loaded`` is ``LoadedRCU``, which aborts on use until ``LoadedRCU/load(path:)`` has
/// succeeded: check ``LoadedRCU/path`` before running anything on it.
public enum RCUFlavorName: String, CaseIterable, Codable, Sendable {
  /// ``MembRCU``: liburcu's memb flavor, the default.
  case memb
  /// ``BulletproofRCU``: liburcu's bulletproof flavor.
  case bp
  /// ``QSBRRCU``: liburcu's quiescent-state-based flavor; readers register and announce
  /// quiescent states.
  case qsbr
  /// ``MemoryBarrierRCU``: liburcu's mb flavor, full memory barriers on the read side.
  case mb
  /// ``SignalRCU``: liburcu's signal flavor; grace periods signal every reader (it takes
  /// `SIGUSR1`).
  case signal
  /// ``LoadedRCU``: an RCU implementation loaded from a shared object, once loaded.
  case loaded

  /// Runs `work` on the flavor this name stands for.
  ///
  /// Inlinable, so that the call site specializes `work` for each flavor's type: the read
  /// side of the work then compiles to the flavor's inlined calls, as in code written for
  /// that flavor.
  @inlinable
  public func run<Work: FlavorGenericWork>(_ work: Work) throws(Work.Failure) -> Work.Output {
    switch self {
    case .memb: try work.run(MembRCU.self)
    case .bp: try work.run(BulletproofRCU.self)
    case .qsbr: try work.run(QSBRRCU.self)
    case .mb: try work.run(MemoryBarrierRCU.self)
    case .signal: try work.run(SignalRCU.self)
    case .loaded: try work.run(LoadedRCU.self)
    }
  }

  /// The flavor's type, for code that takes any flavor at run time.
  public var flavor: any RCUFlavor.Type { run(FlavorType()) }

  /// Waits until every work the flavor deferred before the call has run (its
  /// ``RCUFlavor/barrier()``).
  public func barrier() { flavor.barrier() }
}

/// The work that returns the flavor's type itself.
private struct FlavorType: FlavorGenericWork {
  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) -> any RCUFlavor.Type { flavor }
}
