import ArgumentParser
import ConcurrentBus
import Foundation
import Glibc
import HostSupport
import RCU
import StressKit

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
    help: "Only these read-side designs (repeatable): floor, memb, qsbr, rwlock, mutex, swapped.")
  var designs: [Design] = []

  @Option(
    name: .customLong("threads"),
    help: "Only these reader thread counts (repeatable; default 1, 2, 2 x cores).")
  var threadCounts: [Int] = []

  @Flag(help: "Only the read-side tables (for profiling the read side); same as --only read.")
  var readOnly = false

  @Option(
    name: .customLong("flavor"),
    help: "Only these flavors in the per-flavor rows (repeatable): memb, bp, qsbr, mb, signal.")
  var flavors: [BenchFlavor] = []

  @Option(
    name: .customLong("only"),
    help: """
      Only these sections (repeatable): read, churn, oversubscription, reclamation, \
      membarrier, write (write side, eventfd, rings). Default: all.
      """)
  var sections: [BenchSection] = []

  @Option(
    help: ArgumentHelp(
      "Internal: one churn run of this flavor between markers, for the strace count.",
      visibility: .hidden))
  var membarrierProbe: BenchFlavor?

  func validate() throws {
    try validated { () throws(OptionError) in
      for size in sizes { try RunLimits.check("--size", size, in: 1...100_000) }
      for threads in threadCounts { try RunLimits.checkThreads("--threads", threads) }
      if let rounds { try RunLimits.check("--rounds", rounds, in: 1...100) }
      if let seconds, !(seconds > 0 && seconds <= 60) {
        throw OptionError(
          "--seconds must be a positive number of seconds, at most 60, not \(seconds)")
      }
      if readOnly && !sections.isEmpty {
        throw OptionError("--read-only and --only cannot be combined (--read-only is --only read)")
      }
      if membarrierProbe != nil && (readOnly || !sections.isEmpty || json != nil) {
        throw OptionError("--membarrier-probe runs alone (it is what strace runs)")
      }
    }
    if let json {
      do { _ = try JSONDestination(validating: json) } catch {
        throw ValidationError(error.message)
      }
    }
  }

  func run() throws {
    if let membarrierProbe {
      return try runMembarrierProbe(flavor: membarrierProbe, seconds: seconds ?? 1)
    }
    let began = monotonicNanos()
    let loadAtStart = loadAverage()
    let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    let seconds = self.seconds ?? (quick ? 0.04 : 0.2)
    let rounds = self.rounds ?? (quick ? 3 : 5)
    let sections = Set(
      readOnly ? [.read] : self.sections.isEmpty ? BenchSection.allCases : self.sections)
    print(
      "stress bench: \(cores) cores, \(rounds) rounds of \(seconds) s per configuration, "
        + "load average \(loadAtStart)")

    var cells: [ReadCell] = []
    if sections.contains(.read) {
      let threadCounts =
        self.threadCounts.isEmpty ? Array(Set([1, 2, 2 * cores])).sorted() : self.threadCounts
      for entries in self.sizes.isEmpty ? [16, 64, 1024, 10000] : self.sizes {
        cells += try measureTableSize(
          entries: entries, designs: designs.isEmpty ? Design.allCases : designs,
          threadCounts: threadCounts, seconds: seconds, rounds: rounds)
        progress("read side: \(entries) entries done")
      }
      cells = addRatios(cells)
    }
    if readOnly {
      print(renderReadSide(cells))
      return
    }
    let flavorResults = try measureFlavors(
      sections, cores: cores, seconds: seconds, rounds: rounds)
    var report = BenchReport(
      machine: MachineInfo(
        cores: cores, kernel: kernelRelease(), date: ISO8601DateFormatter().string(from: Date()),
        quick: quick, secondsPerRun: seconds, rounds: rounds, loadAverageAtStart: loadAtStart),
      read: cells, flavors: flavorResults, targets: [], totalSeconds: 0)
    if sections.contains(.write) {
      report.write = try measureWriteSide(count: 1000, preexisting: 64, rounds: rounds)
      report.eventFD = try measureEventFDDispatch(
        registrations: 64, operations: quick ? 100_000 : 400_000, rounds: rounds)
      report.ring = try measureRingDispatch(
        preexisting: 64, operations: quick ? 100_000 : 400_000, rounds: rounds,
        bursts: quick ? 300 : 1000)
      progress("write side, eventfd and rings done")
    }
    report.targets =
      judgeTargets(read: cells, write: report.write)
      + judgeFlavorTargets(flavorResults, cores: cores)
      + (report.ring.map(judgeRingTargets) ?? [])
    report.machine.loadAverageAtEnd = loadAverage()
    report.totalSeconds = Double(monotonicNanos() - began) / 1e9
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

  /// The per-flavor sections this run includes.
  private func measureFlavors(
    _ sections: Set<BenchSection>, cores: Int, seconds: Double, rounds: Int
  ) throws -> FlavorResults {
    let flavors =
      self.flavors.isEmpty
      ? BenchFlavor.allCases
      : Array(Set(self.flavors)).sorted {
        $0.order < $1.order
      }
    var results = FlavorResults(
      flavors: flavors, churn: [], oversubscription: [], reclamation: [], membarrier: [])
    if sections.contains(.churn) {
      results.churn = try measureFlavorChurn(
        flavors: flavors, cores: cores, seconds: seconds, rounds: rounds)
      progress("churn cost per flavor done")
    }
    if sections.contains(.oversubscription) {
      results.oversubscription = try measureOversubscription(
        flavors: flavors, cores: cores, seconds: seconds * 2.5, rounds: rounds)
      progress("writers under oversubscription done")
    }
    if sections.contains(.reclamation) {
      results.reclamation = try measureReclamation(flavors: flavors, count: quick ? 150 : 1000)
      progress("reclamation latency done")
    }
    if sections.contains(.membarrier) {
      results.membarrier = countMembarrierCalls(
        flavors: flavors, readers: cores, seconds: quick ? 0.5 : 1)
      progress("membarrier counts done")
    }
    return results
  }
}

/// The sections of a run, for `--only`.
enum BenchSection: String, CaseIterable, Codable, Sendable, ExpressibleByArgument {
  case read, churn, oversubscription, reclamation, membarrier, write
}

/// A progress line on standard error.
private func progress(_ text: String) {
  FileHandle.standardError.write(Data("  \(text)\n".utf8))
}

/// The 1-minute load average.
private func loadAverage() -> Double {
  var load = [0.0, 0.0, 0.0]
  _ = getloadavg(&load, 3)
  return load[0]
}

/// The running kernel's release string.
private func kernelRelease() -> String {
  var uts = utsname()
  uname(&uts)
  return withUnsafeBytes(of: &uts.release) {
    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
  }
}

/// Measures every design, thread count and churn on tables of one size. Designs alternate
/// within each round so that drift (frequency, other load) hits them all alike.
private func measureTableSize(
  entries: Int, designs: [Design], threadCounts: [Int], seconds: Double, rounds: Int
) throws -> [ReadCell] {
  let floor = try BusTarget(bus: IOBus(flavor: UnsynchronizedFlavor.self), entries: entries)
  let memb = try BusTarget(bus: IOBus(), entries: entries)
  let qsbr = try BusTarget(bus: IOBus(flavor: QSBRRCU.self), entries: entries)
  let rwlock = try BusTarget(bus: IOBus(flavor: RWLockFlavor.self), entries: entries)
  let mutex = try BusTarget(bus: IOBus(flavor: MutexFlavor.self), entries: entries)
  let swapped = try SwappedTarget(entries: entries)

  func run(_ design: Design, threads: Int, churn: Churn) throws -> ReadRun {
    switch design {
    case .floor:
      try measureReads(floor, threads: threads, entries: entries, churn: churn, seconds: seconds)
    case .memb:
      try measureReads(memb, threads: threads, entries: entries, churn: churn, seconds: seconds)
    case .qsbr:
      try measureReads(qsbr, threads: threads, entries: entries, churn: churn, seconds: seconds)
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
  QSBRRCU.barrier()
  return cells
}

/// Fills in each cell's slowdown against the floor and against the RCU bus on memb.
private func addRatios(_ cells: [ReadCell]) -> [ReadCell] {
  cells.map { cell in
    var cell = cell
    if let floor = cells.cell(.floor, entries: cell.entries, threads: cell.threads) {
      cell.slowdownVsFloor = floor.throughput.median / cell.throughput.median
    }
    if let memb = cells.cell(
      .memb, entries: cell.entries, threads: cell.threads, churn: cell.churn)
    {
      cell.slowdownVsRCU = memb.throughput.median / cell.throughput.median
    }
    return cell
  }
}
