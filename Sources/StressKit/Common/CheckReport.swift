import Foundation

/// A report every checking command produces: printed on stdout, written with `--json`, and
/// turned into the exit status by its verdict.
///
/// Every JSON report carries the same four top-level fields, whatever the command:
/// `command`, `verdict` (`clean`, `violations` or `inconclusive`), `work` (each minimum:
/// `name`, `done`, `required`) and `violations` (each kind: `kind`, `count`, `examples`);
/// the rest is the command's own.
public protocol CheckReport: Encodable, Sendable {
  /// The command that ran (`"churn"`, `"kvm"`).
  var command: String { get }
  /// The minimums and what the run reached.
  var work: [WorkMeasure] { get }
  /// What broke, by kind.
  var violations: [ViolationSummary] { get }
  /// The human-readable report, ending with ``Outcome/lines``.
  var text: String { get }
}

extension CheckReport {
  /// What the run concluded, with what it rests on: the work done and the violations found.
  public var outcome: Outcome { Outcome(work: work, violations: violations) }

  /// Prints the report, writes it to `json` if given, and returns the exit status.
  ///
  /// The verdict decides the status: a violation is never hidden behind a failure to
  /// write the JSON (still 1, with the write failure on stderr); a clean run whose JSON
  /// could not be written ends with 2, since the caller did not get what was asked for.
  public func deliver(json: JSONDestination?) -> Int32 {
    print(text)
    let verdict = outcome.verdict
    guard let json else { return verdict.exitStatus }
    do {
      try json.write(self)
    } catch {
      FileHandle.standardError.write(Data("stress: \(error.message)\n".utf8))
      return verdict == .violations ? Verdict.violations.exitStatus : 2
    }
    return verdict.exitStatus
  }
}

/// Where `--json` goes, checked before a run starts so that a typo in the path cannot cost
/// the verdict of a long run.
public struct JSONDestination: Sendable {
  /// The path as given.
  public let path: String

  /// Checks that `path` can be written: its folder exists and is writable, and the path
  /// itself is not a folder. Nothing is created.
  public init(validating path: String) throws(SetupFailure) {
    guard !path.isEmpty else { throw SetupFailure(message: "--json needs a file path") }
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue
    else {
      throw SetupFailure(message: "--json \(path): the folder \(folder) does not exist")
    }
    guard access(folder, W_OK | X_OK) == 0 else {
      throw SetupFailure(message: "--json \(path): the folder \(folder) is not writable")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
      guard !isFolder.boolValue else {
        throw SetupFailure(message: "--json \(path) is a folder, not a file")
      }
      guard access(path, W_OK) == 0 else {
        throw SetupFailure(message: "--json \(path) exists and is not writable")
      }
    }
    self.path = path
  }

  /// Writes `value` as pretty JSON with sorted keys.
  public func write(_ value: some Encodable) throws(SetupFailure) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try encoder.encode(value).write(to: URL(fileURLWithPath: path))
    } catch {
      throw SetupFailure(message: "cannot write \(path): \(error.localizedDescription)")
    }
  }
}

/// Writes a report as pretty JSON to `path`, if given, turning a failure into a setup
/// failure. For reports not yet delivered through ``CheckReport/deliver(json:)``.
public func writeJSON<Report: Encodable>(_ report: Report, to path: String?) throws {
  guard let path else { return }
  try JSONDestination(validating: path).write(report)
}
