import ConcurrentBus
import RCU

/// What churn at 1000 updates/s costs the readers of one flavor: busy readers' throughput
/// with the writer against without it, measured back to back in each round.
struct FlavorChurnCell: Codable, Sendable {
  var flavor: BenchFlavor
  var entries: Int
  var readers: Int
  /// Dispatches per second, all readers together, no writer.
  var quiet: Spread
  /// The same with the writer asking for 1000 updates/s.
  var churned: Spread
  /// Updates per second the writer achieved.
  var updatesPerSecond: Spread
  /// 1 - churned / quiet, one sample per round (each round's pair ran back to back).
  var loss: Spread
  /// The writer's synchronous unregisters, every round's, in nanoseconds.
  var unregister: SampleSummary
}

/// Measures every flavor with 1 reader and with a busy reader on every core (`cores`), at
/// 64 entries. Flavors alternate within each round, and each round alternates which of the
/// pair runs first, so that drift hits both alike.
func measureFlavorChurn(
  flavors: [BenchFlavor], cores: Int, seconds: Double, rounds: Int
) throws -> [FlavorChurnCell] {
  let entries = 64
  var cells: [FlavorChurnCell] = []
  for readers in Array(Set([1, cores])).sorted() {
    var pairs: [BenchFlavor: [(quiet: ReadRun, churned: ReadRun)]] = [:]
    for round in 0..<rounds {
      for offset in 0..<flavors.count {
        let flavor = flavors[(round + offset) % flavors.count]
        let pair = try flavor.run(
          ChurnPair(
            readers: readers, entries: entries, seconds: seconds, quietFirst: round % 2 == 0))
        pairs[flavor, default: []].append(pair)
        flavor.barrier()
      }
    }
    for flavor in flavors {
      let runs = pairs[flavor]!
      precondition(
        runs.allSatisfy { $0.quiet.unclaimed == 0 && $0.churned.unclaimed == 0 },
        "a churn-cost dispatch went unclaimed")
      cells.append(
        FlavorChurnCell(
          flavor: flavor, entries: entries, readers: readers,
          quiet: Spread(runs.map(\.quiet.throughput)),
          churned: Spread(runs.map(\.churned.throughput)),
          updatesPerSecond: Spread(runs.map(\.churned.updatesPerSecond)),
          loss: Spread(runs.map { 1 - $0.churned.throughput / $0.quiet.throughput }),
          unregister: SampleSummary(nanos: runs.flatMap(\.churned.unregisterNanos))))
    }
  }
  return cells
}

/// One round's pair on one flavor: no writer, and the writer at 1000 updates/s, on one bus.
private struct ChurnPair: FlavorWork {
  let readers: Int
  let entries: Int
  let seconds: Double
  let quietFirst: Bool

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> (quiet: ReadRun, churned: ReadRun) {
    let target = try BusTarget(bus: IOBus(flavor: flavor), entries: entries)
    func measure(_ churn: Churn) throws -> ReadRun {
      try measureReads(target, threads: readers, entries: entries, churn: churn, seconds: seconds)
    }
    if quietFirst {
      let quiet = try measure(.none)
      return (quiet, try measure(.rate1000))
    }
    let churned = try measure(.rate1000)
    return (try measure(.none), churned)
  }
}
