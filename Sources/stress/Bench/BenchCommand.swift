import StressKit
import HostSupport
import ArgumentParser
import ConcurrentBus
import Foundation
import Glibc
import RCU

/// `stress bench`: the bus against other synchronization designs on the same table, plus
/// write-side and eventfd costs, with the targets judged on the run.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measures dispatch and registration costs against lock-based designs.")

  @Flag(help: "A shorter run (under 60 s): fewer rounds, shorter timed runs.")
  var quick = false

  @Option(help: "Also write every raw number as JSON to this path.")
  var json: String?

  @Option(help: "Seconds per timed read-side run (default 0.2, or 0.04 with --quick).")
  var seconds: Double?

  @Option(help: "Rounds per configuration (default 5, or 3 with --quick).")
  var rounds: Int?

  @Option(
    name: .customLong("size"),
    help: "Only these table sizes (repeatable; default 16, 64, 1024, 10000).")
  var sizes: [Int] = []

  @Option(
    name: .customLong("design"),
    help: "Only these read-side designs (repeatable): floor, rcu, rwlock, mutex, swapped.")
  var designs: [Design] = []

  @Option(
    name: .customLong("threads"),
    help: "Only these reader thread counts (repeatable; default 1, 2, 2 x cores).")
  var threadCounts: [Int] = []

  @Flag(help: "Skip the write-side and eventfd measurements (for profiling the read side).")
  var readOnly = false

  func validate() throws {
    try validated { () throws(OptionError) in
      for size in sizes { try RunLimits.check("--size", size, in: 1...100_000) }
      for threads in threadCounts { try RunLimits.checkThreads("--threads", threads) }
      if let rounds { try RunLimits.check("--rounds", rounds, in: 1...100) }
      if let seconds, !(seconds > 0 && seconds <= 60) {
        throw OptionError(
          "--seconds must be a positive number of seconds, at most 60, not \(seconds)")
      }
    }
    if let json {
      do { _ = try JSONDestination(validating: json) } catch {
        throw ValidationError(error.message)
      }
    }
  }

  func run() throws {
    let began = monotonicNanos()
    var load = [0.0, 0.0, 0.0]
    _ = getloadavg(&load, 3)
    let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    let seconds = self.seconds ?? (quick ? 0.04 : 0.2)
    let rounds = self.rounds ?? (quick ? 3 : 5)
    let threadCounts =
      self.threadCounts.isEmpty ? Array(Set([1, 2, 2 * cores])).sorted() : self.threadCounts
    let designs = self.designs.isEmpty ? Design.allCases : self.designs
    let sizes = self.sizes.isEmpty ? [16, 64, 1024, 10000] : self.sizes
    print(
      "stress bench: \(cores) cores, \(rounds) rounds of \(seconds) s per configuration, "
        + "load average \(load[0])")

    var cells: [ReadCell] = []
    for entries in sizes {
      cells += try measureTableSize(
        entries: entries, designs: designs, threadCounts: threadCounts, seconds: seconds,
        rounds: rounds)
      FileHandle.standardError.write(Data("  read side: \(entries) entries done\n".utf8))
    }
    cells = addRatios(cells)
    if readOnly {
      print(renderReadSide(cells))
      return
    }
    let write = try measureWriteSide(count: 1000, preexisting: 64, rounds: rounds)
    let eventFD = try measureEventFDDispatch(
      registrations: 64, operations: quick ? 100_000 : 400_000, rounds: rounds)
    let targets = judgeTargets(read: cells, write: write)

    var uts = utsname()
    uname(&uts)
    let kernel = withUnsafeBytes(of: &uts.release) {
      String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
    }
    let report = BenchReport(
      machine: MachineInfo(
        cores: cores, kernel: kernel, date: ISO8601DateFormatter().string(from: Date()),
        quick: quick, secondsPerRun: seconds, rounds: rounds, loadAverageAtStart: load[0]),
      read: cells, write: write, eventFD: eventFD, targets: targets,
      totalSeconds: Double(monotonicNanos() - began) / 1e9)
    print(renderReport(report))
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let url = URL(fileURLWithPath: json)
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try encoder.encode(report).write(to: url)
      print("JSON written to \(json)")
    }
  }
}

/// Measures every design, thread count and churn on tables of one size. Designs alternate
/// within each round so that drift (frequency, other load) hits them all alike.
private func measureTableSize(
  entries: Int, designs: [Design], threadCounts: [Int], seconds: Double, rounds: Int
) throws -> [ReadCell] {
  let floor = try BusTarget(bus: IOBus(flavor: UnsynchronizedFlavor.self), entries: entries)
  let rcu = try BusTarget(bus: IOBus(), entries: entries)
  let rwlock = try BusTarget(bus: IOBus(flavor: RWLockFlavor.self), entries: entries)
  let mutex = try BusTarget(bus: IOBus(flavor: MutexFlavor.self), entries: entries)
  let swapped = try SwappedTarget(entries: entries)

  func run(_ design: Design, threads: Int, churn: Churn) throws -> ReadRun {
    switch design {
    case .floor:
      try measureReads(floor, threads: threads, entries: entries, churn: churn, seconds: seconds)
    case .rcu:
      try measureReads(rcu, threads: threads, entries: entries, churn: churn, seconds: seconds)
    case .rwlock:
      try measureReads(rwlock, threads: threads, entries: entries, churn: churn, seconds: seconds)
    case .mutex:
      try measureReads(mutex, threads: threads, entries: entries, churn: churn, seconds: seconds)
    case .swapped:
      try measureReads(swapped, threads: threads, entries: entries, churn: churn, seconds: seconds)
    }
  }

  var cells: [ReadCell] = []
  for churn in Churn.allCases {
    // The floor has no grace period: a writer would free tables under its readers.
    let designs = designs.filter { churn == .none || $0 != .floor }
    for threads in threadCounts {
      var runs: [Design: [ReadRun]] = [:]
      for round in 0..<rounds {
        for offset in 0..<designs.count {
          let design = designs[(round + offset) % designs.count]
          runs[design, default: []].append(try run(design, threads: threads, churn: churn))
        }
      }
      for design in designs {
        let samples = runs[design]!
        cells.append(
          ReadCell(
            design: design, entries: entries, threads: threads, churn: churn,
            throughput: Spread(samples.map(\.throughput)),
            nanosPerDispatch: Spread(samples.map(\.nanosPerDispatch)),
            updatesPerSecond: Spread(samples.map(\.updatesPerSecond)),
            unclaimed: samples.reduce(0) { $0 + $1.unclaimed }))
      }
    }
  }
  MembRCU.barrier()
  return cells
}

/// Fills in each cell's slowdown against the floor and against the RCU bus.
private func addRatios(_ cells: [ReadCell]) -> [ReadCell] {
  cells.map { cell in
    var cell = cell
    if let floor = cells.cell(.floor, entries: cell.entries, threads: cell.threads) {
      cell.slowdownVsFloor = floor.throughput.median / cell.throughput.median
    }
    if let rcu = cells.cell(.rcu, entries: cell.entries, threads: cell.threads, churn: cell.churn) {
      cell.slowdownVsRCU = rcu.throughput.median / cell.throughput.median
    }
    return cell
  }
}
