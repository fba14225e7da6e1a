import RCU

/// The RCU flavors the per-flavor rows compare (churn cost, writers under oversubscription,
/// reclamation latency), each as `IOBus<Flavor>` on the same table.
public enum BenchFlavor: String, CaseIterable, Codable, Sendable {
  /// ``MembRCU``: liburcu's memb flavor, the bus's default.
  case memb
  /// ``BulletproofRCU``: liburcu's bp flavor.
  case bp
  /// ``QSBRRCU``: liburcu's qsbr flavor.
  case qsbr
  /// ``MemoryBarrierRCU``: liburcu's mb flavor.
  case mb
  /// ``SignalRCU``: liburcu's signal flavor.
  case signal

  /// Runs `work` on this flavor's type: the one place that turns a name into a type.
  func run<Work: FlavorWork>(_ work: Work) throws -> Work.Output {
    switch self {
    case .memb: try work.run(MembRCU.self)
    case .bp: try work.run(BulletproofRCU.self)
    case .qsbr: try work.run(QSBRRCU.self)
    case .mb: try work.run(MemoryBarrierRCU.self)
    case .signal: try work.run(SignalRCU.self)
    }
  }

  /// Waits until every work this flavor deferred has run, so that one measurement's
  /// reclamations never run into the next one's.
  func barrier() {
    switch self {
    case .memb: MembRCU.barrier()
    case .bp: BulletproofRCU.barrier()
    case .qsbr: QSBRRCU.barrier()
    case .mb: MemoryBarrierRCU.barrier()
    case .signal: SignalRCU.barrier()
    }
  }
}

/// Work generic over the flavor, run through ``BenchFlavor/run(_:)``.
protocol FlavorWork {
  associatedtype Output
  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> Output
}
