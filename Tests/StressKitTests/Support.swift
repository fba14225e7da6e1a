import Foundation
import Glibc
import Testing

@testable import StressKit

/// The built `stress` executable, next to the test bundle (`swift build --build-tests`
/// and `swift test` build every product of the package).
let stressExecutable: URL = {
  let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
  return bundle.deletingLastPathComponent().appendingPathComponent("stress")
}()

/// What a `stress` child process did.
struct StressResult {
  /// The exit status; 128 + N when it died of signal N.
  let status: Int32
  let stdout: String
  let stderr: String
  /// Wall-clock seconds it ran.
  let seconds: Double
}

/// Runs `stress` with `arguments` as a child process (the backtracer off, as in CI) and
/// waits for it, killing it after `timeout` seconds. Output goes through files, so a
/// chatty child never blocks on a full pipe.
func runStress(
  _ arguments: [String], timeout: Double = 120, environment extra: [String: String] = [:]
) throws -> StressResult {
  try #require(
    FileManager.default.isExecutableFile(atPath: stressExecutable.path),
    "the stress executable is missing at \(stressExecutable.path): build the package first")
  let folder = try temporaryFolder()
  defer { try? FileManager.default.removeItem(at: folder) }
  let outURL = folder.appendingPathComponent("stdout")
  let errURL = folder.appendingPathComponent("stderr")
  _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
  _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
  let process = Process()
  process.executableURL = stressExecutable
  process.arguments = arguments
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFT_BACKTRACE"] = "enable=no"
  environment.merge(extra) { $1 }
  process.environment = environment
  process.standardOutput = try FileHandle(forWritingTo: outURL)
  process.standardError = try FileHandle(forWritingTo: errURL)
  let started = Date()
  try process.run()
  while process.isRunning && Date().timeIntervalSince(started) < timeout { usleep(10_000) }
  if process.isRunning {
    // SIGKILL: the child inherits this thread's signal mask, in which SIGTERM may be blocked
    // (a Swift concurrency worker's), and a blocked SIGTERM would leave it running forever.
    kill(process.processIdentifier, SIGKILL)
    Issue.record("stress \(arguments.joined(separator: " ")) ran over \(timeout) s")
  }
  process.waitUntilExit()
  let status =
    process.terminationReason == .uncaughtSignal
    ? 128 + process.terminationStatus : process.terminationStatus
  return StressResult(
    status: status, stdout: contents(of: outURL), stderr: contents(of: errURL),
    seconds: Date().timeIntervalSince(started))
}

/// A text file's contents (empty when it cannot be read).
private func contents(of url: URL) -> String {
  String(decoding: fileContents(at: url) ?? Data(), as: UTF8.self)
}

/// Whether this process (and the `stress` built beside it) runs under AddressSanitizer
/// (Scripts/asan.sh): it gives every thread an alternate signal stack of its own, and
/// reports a use after free itself, exiting 1 before the tool can write its report.
let underAddressSanitizer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil

/// A fresh folder under the temporary folder, removed by the caller.
func temporaryFolder() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "stresskit-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The `verdict` and violation kinds of a JSON report.
func jsonVerdict(at url: URL) throws -> (verdict: String, kinds: Set<String>) {
  let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
  let report = try #require(object)
  let verdict = try #require(report["verdict"] as? String)
  let violations = try #require(report["violations"] as? [[String: Any]])
  return (verdict, Set(violations.compactMap { $0["kind"] as? String }))
}
