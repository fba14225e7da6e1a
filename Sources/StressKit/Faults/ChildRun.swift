import Foundation
import Glibc

/// One run of the `stress` binary in a child process, so that a faulty run that crashes or
/// hangs costs one row of the table, not the table.
public struct ChildRun: Codable, Sendable {
  /// The arguments after the executable.
  public let arguments: [String]
  /// The exit status, or nil when the child died of a signal or was killed.
  public let exitStatus: Int32?
  /// The signal the child died of, if it did.
  public let signal: Int32?
  /// Whether it ran past its time limit and was killed.
  public let timedOut: Bool
  /// The names of the violation kinds its report (or its stderr, after a crash) named.
  public let kinds: [String]
  /// For each kind its report named, the seconds into the run when it was first seen (as
  /// the run measured them, from when its threads were all running).
  public let firstSeen: [String: Double]
  /// Wall-clock seconds from spawn to exit.
  public let wallSeconds: Double
  /// The last lines of its stderr, for a row that did not go as planned.
  public let stderrTail: String

  /// "exit 1", "SIGSEGV", "timed out".
  public var statusText: String {
    if timedOut { return "timeout" }
    if let exitStatus { return String(exitStatus) }
    return "sig\(signal ?? 0)"
  }

  /// Runs `executable` with `arguments` plus `--json` into `folder`, killing it after
  /// `limit` seconds.
  static func run(
    _ executable: URL, _ arguments: [String], limit: Double, folder: URL
  ) throws(SetupFailure) -> ChildRun {
    let name = UUID().uuidString
    let json = folder.appendingPathComponent("\(name).json")
    let stderrFile = folder.appendingPathComponent("\(name).err")
    _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments + ["--json", json.path]
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"  // the backtracer can hang a crashed child
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle(forWritingAtPath: stderrFile.path)
    let started = Date()
    do {
      try process.run()
    } catch {
      throw SetupFailure(message: "cannot start \(executable.path): \(error)")
    }
    var timedOut = false
    while process.isRunning {
      if Date().timeIntervalSince(started) > limit {
        timedOut = true
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        break
      }
      usleep(20_000)
    }
    process.waitUntilExit()
    let wall = Date().timeIntervalSince(started)
    let stderrText = String(decoding: fileContents(at: stderrFile) ?? Data(), as: UTF8.self)
    let report = fileContents(at: json).flatMap {
      try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
    }
    let died = process.terminationReason == .uncaughtSignal
    return ChildRun(
      arguments: arguments, exitStatus: died ? nil : process.terminationStatus,
      signal: died ? process.terminationStatus : nil, timedOut: timedOut,
      kinds: kinds(report: report, stderr: stderrText), firstSeen: firstSeen(report: report),
      wallSeconds: wall,
      stderrTail: stderrText.split(separator: "\n").filter { !isProgress($0) }.suffix(5)
        .joined(separator: "\n"))
  }

  /// Whether `line` is one of the once-a-second progress lines ("torture 3s: ...").
  private static func isProgress(_ line: Substring) -> Bool {
    let words = line.split(separator: " ", maxSplits: 2)
    return words.count > 1 && words[1].hasSuffix("s:") && Int(words[1].dropLast(2)) != nil
  }

  /// `firstSeenSeconds` of each kind in a JSON report's `violations`.
  private static func firstSeen(report: [String: Any]?) -> [String: Double] {
    var seen: [String: Double] = [:]
    for violation in report?["violations"] as? [[String: Any]] ?? [] {
      if let kind = violation["kind"] as? String,
        let seconds = violation["firstSeenSeconds"] as? Double
      {
        seen[kind] = seconds
      }
    }
    return seen
  }

  /// The kinds in a JSON report's `violations`, or else in `VIOLATION kind` lines on
  /// stderr (a crash report written by the signal handler).
  private static func kinds(report: [String: Any]?, stderr: String) -> [String] {
    if let violations = report?["violations"] as? [[String: Any]] {
      return violations.compactMap { $0["kind"] as? String }
    }
    return stderr.split(separator: "\n").compactMap { line in
      guard let range = line.range(of: "VIOLATION ") else { return nil }
      let rest = line[range.upperBound...]
      return rest.split(separator: ":").first.map(String.init)
    }
  }
}
