import ConcurrentBus
import Foundation
import Glibc
import RCU

/// The `membarrier` system calls one flavor's churn run makes: this tool runs itself under
/// `strace` (`stress bench --membarrier-probe FLAVOR`), with a busy reader on every core and
/// the writer at 1000 updates/s, and counts the calls between two markers the child sets
/// around the run (so liburcu's start-up queries, made by every flavor's library at load,
/// are left out).
struct MembarrierCount: Codable, Sendable {
  var flavor: BenchFlavor
  var readers: Int
  var seconds: Double
  /// membarrier calls inside the run, any command; nil when not measured.
  var calls: Int?
  /// Updates the writer made inside the run: each waits for a grace period (an unregister)
  /// or hands one to the reclaimer (a register), so 0 calls means grace periods without one.
  var updates: Int?
  var unavailableReason: String?
}

/// The paths the child asks `access(2)` about around its run, as markers: nothing else
/// looks them up, and `strace` shows each call with its path.
private let beginMarker = "/nonexistent/stress-bench-probe-begin"
private let endMarker = "/nonexistent/stress-bench-probe-end"

/// Runs the probe of every flavor in `flavors`, one child process each.
func countMembarrierCalls(flavors: [BenchFlavor], readers: Int, seconds: Double)
  -> [MembarrierCount]
{
  flavors.map { flavor in
    var count = MembarrierCount(flavor: flavor, readers: readers, seconds: seconds)
    do {
      (count.calls, count.updates) = try traceProbe(flavor: flavor, seconds: seconds)
    } catch {
      count.unavailableReason = error.message
    }
    return count
  }
}

/// The child's side: one churn run between the markers; prints the writer's updates.
func runMembarrierProbe(flavor: BenchFlavor, seconds: Double) throws {
  let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
  let updates = try flavor.run(ProbeRun(readers: cores, seconds: seconds))
  print("updates \(updates)")
}

private struct ProbeRun: FlavorWork {
  let readers: Int
  let seconds: Double

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> Int {
    let target = try BusTarget(bus: IOBus(flavor: flavor), entries: 64)
    Flavor.barrier()
    _ = access(beginMarker, F_OK)
    let run = try measureReads(
      target, threads: readers, entries: 64, churn: .rate1000, seconds: seconds)
    // The reclamations the run's updates handed to the reclaimer belong to it too.
    Flavor.barrier()
    _ = access(endMarker, F_OK)
    precondition(run.unclaimed == 0, "a probe dispatch went unclaimed")
    return Int((run.updatesPerSecond * seconds).rounded())
  }
}

/// Why the probe could not count.
private struct ProbeFailure: Error {
  let message: String
}

extension Error {
  fileprivate var message: String { (self as? ProbeFailure)?.message ?? "\(self)" }
}

/// Runs the child under strace and counts the calls between the markers.
private func traceProbe(flavor: BenchFlavor, seconds: Double) throws -> (Int, Int) {
  guard let strace = findExecutable("strace") else {
    throw ProbeFailure(message: "strace not found (Scripts/bench.sh installs it)")
  }
  let output = FileManager.default.temporaryDirectory
    .appendingPathComponent("stress-membarrier-\(getpid())-\(flavor.rawValue).txt")
  defer { try? FileManager.default.removeItem(at: output) }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: strace)
  process.arguments = [
    "--seccomp-bpf", "-f", "-qq", "-e", "trace=membarrier,access,faccessat,faccessat2", "-o",
    output.path,
    try ownExecutable(), "bench", "--membarrier-probe", flavor.rawValue,
    "--seconds", "\(seconds)",
  ]
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFT_BACKTRACE"] = "enable=no"
  process.environment = environment
  let stdout = Pipe()
  process.standardOutput = stdout
  process.standardError = FileHandle.nullDevice
  try process.run()
  let deadline = monotonicNanos() + UInt64((seconds + 30) * 1e9)
  while process.isRunning && monotonicNanos() < deadline { usleep(10_000) }
  if process.isRunning {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    throw ProbeFailure(message: "the traced probe did not finish within \(seconds + 30) s")
  }
  process.waitUntilExit()
  let printed = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  guard process.terminationStatus == 0,
    let updates = printed.split(separator: "\n").compactMap({ line -> Int? in
      line.hasPrefix("updates ") ? Int(line.dropFirst("updates ".count)) : nil
    }).first
  else {
    throw ProbeFailure(
      message: "the traced probe failed (status \(process.terminationStatus)): strace may be "
        + "refused ptrace here")
  }
  let trace = try String(contentsOf: output, encoding: .utf8)
  return (try membarrierCalls(inTrace: trace), updates)
}

/// Counts the membarrier calls between the begin and end markers of an `strace -f -o`
/// trace. A call another thread interrupts shows as `membarrier(... <unfinished ...>` and
/// later `<... membarrier resumed>`: only the first is counted.
func membarrierCalls(inTrace trace: String) throws -> Int {
  var inside = false
  var seen = (begin: false, end: false)
  var calls = 0
  for line in trace.split(separator: "\n") {
    if line.contains("\"\(beginMarker)\"") {
      inside = true
      seen.begin = true
    } else if line.contains("\"\(endMarker)\"") {
      inside = false
      seen.end = true
    } else if inside && line.contains(" membarrier(") {
      calls += 1
    }
  }
  guard seen.begin && seen.end else {
    throw ProbeFailure(message: "the trace lacks the probe's markers")
  }
  return calls
}

/// This tool's own executable.
private func ownExecutable() throws -> String {
  var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
  let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
  guard length > 0 else { throw ProbeFailure(message: "cannot read /proc/self/exe") }
  return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The first executable called `name` on `PATH`.
private func findExecutable(_ name: String) -> String? {
  let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
  return path.split(separator: ":").map { "\($0)/\(name)" }.first {
    access($0, X_OK) == 0
  }
}
