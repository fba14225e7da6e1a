import ConcurrentBus
import RCU

/// A writer asking for 1000 updates/s (a register, then a synchronous unregister, each an
/// update) while 2 x cores busy readers share the cores with it.
struct OversubscriptionCell: Codable, Sendable {
  var flavor: BenchFlavor
  var behaviour: ReaderBehaviour
  var readers: Int
  var cores: Int
  /// Updates per second the writer achieved, one sample per round (asked: 1000).
  var updatesPerSecond: Spread
  /// Every synchronous unregister of every round, in nanoseconds.
  var unregister: SampleSummary
  /// Dispatches per second, all readers together, one sample per round.
  var readerThroughput: Spread
}

/// Measures every flavor with tight-loop and with vCPU-like readers, at 64 entries.
/// Flavors and behaviours alternate within each round.
func measureOversubscription(
  flavors: [BenchFlavor], cores: Int, seconds: Double, rounds: Int
) throws -> [OversubscriptionCell] {
  let readers = 2 * cores
  let configurations = ReaderBehaviour.allCases.flatMap { behaviour in
    flavors.map { (flavor: $0, behaviour: behaviour) }
  }
  var runs: [Int: [ReadRun]] = [:]
  for round in 0..<rounds {
    for offset in 0..<configurations.count {
      let index = (round + offset) % configurations.count
      let (flavor, behaviour) = configurations[index]
      let run = try flavor.run(
        OversubscribedRun(readers: readers, behaviour: behaviour, seconds: seconds))
      precondition(run.unclaimed == 0, "an oversubscribed dispatch went unclaimed")
      runs[index, default: []].append(run)
      flavor.barrier()
    }
  }
  return configurations.enumerated().map { index, configuration in
    let samples = runs[index]!
    return OversubscriptionCell(
      flavor: configuration.flavor, behaviour: configuration.behaviour, readers: readers,
      cores: cores, updatesPerSecond: Spread(samples.map(\.updatesPerSecond)),
      unregister: SampleSummary(nanos: samples.flatMap(\.unregisterNanos)),
      readerThroughput: Spread(samples.map(\.throughput)))
  }
}

/// One run on one flavor, on a bus of its own.
private struct OversubscribedRun: FlavorWork {
  let readers: Int
  let behaviour: ReaderBehaviour
  let seconds: Double

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> ReadRun {
    let target = try BusTarget(bus: IOBus(flavor: flavor), entries: 64)
    return try measureReads(
      target, threads: readers, entries: 64, churn: .rate1000, seconds: seconds,
      readers: behaviour)
  }
}
