import Foundation
import Glibc

/// Runs the counting probe under valgrind and turns what it counted into costs per
/// operation.
///
/// The probe is a program that, called as `PROBE run WORK OPERATIONS [--inject STEPS]`, sets
/// up ``CountedWork`` `WORK` and runs `OPERATIONS` operations of it
/// (``CountedWork/run(operations:injectedSteps:)``) in a loop function whose name contains
/// `counted`. Each workload runs twice, with its ``CountedWork/operations`` and twice as
/// many, and ``CountedCost`` is the difference.
///
/// valgrind's callgrind runs it, with the cache and branch-predictor simulation cachegrind
/// has (`--cache-sim=yes --branch-sim=yes`, the same simulator), collecting only inside the
/// loop (`--toggle-collect`): counting the whole program as cachegrind does, the set-up's
/// thread hand-offs (a futex wait, a contended lock) and libc's parsing of
/// `/proc/self/maps` differ by a few hundred instructions from run to run, which showed in
/// the second decimal of a figure per operation. The loop alone, started with the simulated
/// caches evicted (``evictSimulatedCaches()``), is exact: instructions, branches, data
/// accesses and misses are the same on every run of the same binary. Mispredicts are not
/// (see ``CountedReport/text``).
/// valgrind 3.19 cannot read the debug information of Swift 6.3 release binaries: give it a
/// copy stripped of it (`strip --strip-debug`, which keeps the symbols the toggle needs).
public struct Callgrind: Sendable {
  /// The valgrind executable.
  public var valgrind: String
  /// The (stripped) probe executable.
  public var probe: String
  /// How many valgrind runs go at once (their counts do not depend on it).
  public var jobs: Int
  /// How long one run may take before it is killed and the count fails.
  public var timeoutSeconds: Double

  /// The simulated caches: this machine's first levels (32 KiB, 8-way, 64-byte lines) and
  /// its shared L3 as the last level (32 MiB, 16-way), fixed so that another machine counts
  /// the same misses (valgrind would otherwise read the host's geometry).
  public static let cacheGeometry = [
    "--I1=32768,8,64", "--D1=32768,8,64", "--LL=33554432,16,64",
  ]

  /// The probe's loop functions, whose calls alone are counted.
  public static let collected = "*counted*"

  /// A runner of `probe`, with valgrind from `PATH` unless `valgrind` is given.
  public init(
    probe: String, valgrind: String? = nil, jobs: Int = 2, timeoutSeconds: Double = 300
  ) throws(ProbeFailure) {
    guard let valgrind = valgrind ?? executableOnPath("valgrind") else {
      throw ProbeFailure("valgrind not found (Scripts/count.sh installs it)")
    }
    guard access(probe, X_OK) == 0 else { throw ProbeFailure("no executable probe at \(probe)") }
    self.valgrind = valgrind
    self.probe = probe
    self.jobs = max(1, jobs)
    self.timeoutSeconds = timeoutSeconds
  }

  /// Each of `works`' cost per operation, in the order given; `injectedSteps` is passed to
  /// the probe's dispatches (see ``CountedWork/run(operations:injectedSteps:)``).
  public func costs(of works: [CountedWork], injectedSteps: Int = 0) throws(ProbeFailure)
    -> [CountedCost]
  {
    let runs = works.flatMap { work in
      [1, 2].map { ProbeRun(work: work, operations: $0 * work.operations, inject: injectedSteps) }
    }
    let totals = try run(runs)
    return works.indices.map { index in
      CountedCost(
        shorter: totals[2 * index], longer: totals[2 * index + 1],
        operations: works[index].operations)
    }
  }

  /// One run of the probe.
  struct ProbeRun {
    let work: CountedWork
    let operations: Int
    let inject: Int

    var arguments: [String] {
      ["run", work.description, "\(operations)"] + (inject > 0 ? ["--inject", "\(inject)"] : [])
    }
  }

  /// Runs every one of `runs` under valgrind, `jobs` at a time; their totals in order.
  private func run(_ runs: [ProbeRun]) throws(ProbeFailure) -> [ValgrindTotals] {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("concurrentbus-count-\(getpid())")
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw ProbeFailure("cannot create \(folder.path): \(error)")
    }
    defer { try? FileManager.default.removeItem(at: folder) }
    var totals = [ValgrindTotals?](repeating: nil, count: runs.count)
    var running: [(index: Int, process: Process, log: URL, started: UInt64)] = []
    var next = 0
    while next < runs.count || !running.isEmpty {
      while running.count < jobs && next < runs.count {
        let log = folder.appendingPathComponent("run-\(next).log")
        running.append((next, try start(runs[next], log: log), log, monotonicNanos()))
        next += 1
      }
      usleep(20_000)
      for (position, entry) in running.enumerated().reversed() {
        if entry.process.isRunning {
          guard Double(monotonicNanos() - entry.started) / 1e9 > timeoutSeconds else { continue }
          for other in running { kill(other.process.processIdentifier, SIGKILL) }
          throw ProbeFailure(
            "\(runs[entry.index].arguments.joined(separator: " ")) ran longer than "
              + "\(Int(timeoutSeconds)) s under valgrind")
        }
        running.remove(at: position)
        totals[entry.index] = try finish(runs[entry.index], entry.process, log: entry.log)
      }
    }
    return totals.map { $0! }
  }

  private func start(_ run: ProbeRun, log: URL) throws(ProbeFailure) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: valgrind)
    process.arguments =
      [
        "--tool=callgrind", "--cache-sim=yes", "--branch-sim=yes", "--collect-atstart=no",
        "--toggle-collect=\(Self.collected)", "--callgrind-out-file=/dev/null",
        "--log-file=\(log.path)",
      ] + Self.cacheGeometry + [probe] + run.arguments
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    environment["SWIFT_DETERMINISTIC_HASHING"] = "1"
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw ProbeFailure("cannot start valgrind: \(error)")
    }
    return process
  }

  private func finish(_ run: ProbeRun, _ process: Process, log: URL) throws(ProbeFailure)
    -> ValgrindTotals
  {
    process.waitUntilExit()
    let summary = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    guard process.terminationStatus == 0, let totals = ValgrindTotals(summary: summary),
      totals.instructions > 0
    else {
      let tail = summary.split(separator: "\n").suffix(8).joined(separator: "\n")
      throw ProbeFailure(
        "\(run.arguments.joined(separator: " ")) failed under valgrind (status "
          + "\(process.terminationStatus)):\n\(tail)")
    }
    return totals
  }
}
