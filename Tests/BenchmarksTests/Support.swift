import Foundation
import Glibc
import Testing

@testable import Benchmarks

/// Every benchmark suite, one test at a time: the baselines' locks are process-wide, and a
/// section's threads should not share the machine with another section's.
@Suite("Benchmark sections, run briefly", .serialized)
struct BenchmarkTests {}

extension BenchSettings {
  /// A run as short as a run can be: one round of 5 ms per configuration, two flavors, and
  /// two cores' worth of threads whatever the machine (the tests count, never time).
  static func tiny(sizes: [Int] = [16, 64], threadCounts: [Int] = [1, 2]) -> BenchSettings {
    BenchSettings(
      seconds: 0.005, rounds: 1, cores: 2, sizes: sizes, threadCounts: threadCounts,
      flavors: [.memb, .qsbr])
  }
}

/// A membarrier probe whose child cannot start: every count is "not measured".
let unavailableProbe = MembarrierProbe(executable: "/nonexistent/stress") { _, _ in [] }

/// The built `stress` executable, next to the test bundle (`swift build --build-tests` and
/// `swift test` build every product of the package).
let stressExecutable: String = URL(fileURLWithPath: CommandLine.arguments[0])
  .resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("stress").path

/// Whether `strace` is on `PATH`, for the probe's own run.
let straceIsInstalled: Bool = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
  .split(separator: ":").contains { access("\($0)/strace", X_OK) == 0 }

/// `value` encoded as JSON and decoded again.
func roundTrip<Value: Codable>(_ value: Value) throws -> Value {
  try JSONDecoder().decode(Value.self, from: JSONEncoder().encode(value))
}
