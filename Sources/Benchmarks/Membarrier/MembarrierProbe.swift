import ConcurrentBus
import Foundation
import Glibc

/// Counts the `membarrier` system calls of one flavor's churn run: the probe runs a child
/// process under `strace`, with a busy reader on every core and the writer at 1000
/// updates/s, and counts the calls between two markers the child sets around the run (so
/// liburcu's start-up queries, made by every flavor's library at load, are left out).
public struct MembarrierProbe: Sendable {
  /// The child's executable; nil for this process's own.
  public var executable: String?
  /// The child's arguments, given the flavor and the run's seconds: they must make it call
  /// ``runChild(flavor:seconds:)``.
  public var arguments: @Sendable (BenchFlavor, Double) -> [String]

  /// A probe whose child is `executable` (nil: this program) called with `arguments`.
  public init(
    executable: String? = nil, arguments: @escaping @Sendable (BenchFlavor, Double) -> [String]
  ) {
    self.executable = executable
    self.arguments = arguments
  }

  /// The `stress` tool's probe: itself, with `bench --membarrier-probe FLAVOR --seconds S`.
  public static let stressBench = MembarrierProbe { flavor, seconds in
    ["bench", "--membarrier-probe", flavor.rawValue, "--seconds", "\(seconds)"]
  }

  /// The child's side: one churn run of `flavor` between the markers, with a busy reader on
  /// every core; prints the writer's updates (`updates N`) for the parent.
  public static func runChild(flavor: BenchFlavor, seconds: Double) throws {
    let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    let updates = try flavor.run(ProbeRun(readers: cores, seconds: seconds))
    print("updates \(updates)")
  }

  /// The paths the child asks `access(2)` about around its run, as markers: nothing else
  /// looks them up, and `strace` shows each call with its path.
  static let beginMarker = "/nonexistent/stress-bench-probe-begin"
  static let endMarker = "/nonexistent/stress-bench-probe-end"

  /// Runs the child of `flavor` under strace: the membarrier calls it made between the
  /// markers, and the updates it reports.
  func trace(flavor: BenchFlavor, seconds: Double) throws -> (calls: Int, updates: Int) {
    guard let strace = executableOnPath("strace") else {
      throw ProbeFailure("strace not found (Scripts/bench.sh installs it)")
    }
    let output = FileManager.default.temporaryDirectory
      .appendingPathComponent("stress-membarrier-\(getpid())-\(flavor.rawValue).txt")
    defer { try? FileManager.default.removeItem(at: output) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: strace)
    process.arguments =
      [
        "--seccomp-bpf", "-f", "-qq", "-e", "trace=membarrier,access,faccessat,faccessat2",
        "-o", output.path, try executable ?? Self.ownExecutable(),
      ] + arguments(flavor, seconds)
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    // LeakSanitizer stops the world with ptrace at exit, which a process strace already
    // traces cannot do: in a sanitized build the probe would fail for that alone.
    environment["ASAN_OPTIONS"] = (environment["ASAN_OPTIONS"] ?? "") + " detect_leaks=0"
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
      throw ProbeFailure("the traced probe did not finish within \(seconds + 30) s")
    }
    process.waitUntilExit()
    let printed = String(
      decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    guard process.terminationStatus == 0,
      let updates = printed.split(separator: "\n").compactMap({ line -> Int? in
        line.hasPrefix("updates ") ? Int(line.dropFirst("updates ".count)) : nil
      }).first
    else {
      throw ProbeFailure(
        "the traced probe failed (status \(process.terminationStatus)): strace may be "
          + "refused ptrace here")
    }
    let trace = try String(contentsOf: output, encoding: .utf8)
    return (try Self.membarrierCalls(inTrace: trace), updates)
  }

  /// Counts the membarrier calls between the begin and end markers of an `strace -f -o`
  /// trace. A call another thread interrupts shows as `membarrier(... <unfinished ...>` and
  /// later `<... membarrier resumed>`: only the first is counted.
  static func membarrierCalls(inTrace trace: String) throws -> Int {
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
    guard seen.begin && seen.end else { throw ProbeFailure("the trace lacks the probe's markers") }
    return calls
  }

  /// This process's own executable.
  private static func ownExecutable() throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { throw ProbeFailure("cannot read /proc/self/exe") }
    return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// The child's churn run on one flavor, between the markers.
private struct ProbeRun: FlavorGenericWork {
  let readers: Int
  let seconds: Double

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> Int {
    let target = try BusTarget<Flavor>(entries: 64)
    Flavor.barrier()
    _ = access(MembarrierProbe.beginMarker, F_OK)
    let run = try measureReads(
      target, threads: readers, entries: 64, churn: .rate1000, seconds: seconds)
    // The reclamations the run's updates handed to the reclaimer belong to it too.
    Flavor.barrier()
    _ = access(MembarrierProbe.endMarker, F_OK)
    precondition(run.unclaimed == 0, "a probe dispatch went unclaimed")
    return Int((run.updatesPerSecond * seconds).rounded())
  }
}
