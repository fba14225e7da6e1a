import Foundation

/// A report every checking command produces: printed on stdout, written with `--json`, and
/// turned into the exit status by its verdict.
///
/// Every JSON report starts with the same fields, whatever the command: `verdict` (`clean`,
/// `violations` or `inconclusive`) first, then `header` (``ReportHeader``: the tool, its
/// commit, the host, the start time and the command line that repeats the run), then in
/// alphabetical order the report's own fields, among which every report has `command`,
/// `work` (each minimum: `name`, `done`, `required`), `violations` (each kind: `kind`,
/// `count`, `examples`) and `shortfalls` (each way the tool ran short: `kind`, `count`,
/// `examples`).
public protocol CheckReport: Encodable, Sendable {
  /// The command that ran (`"churn"`, `"kvm"`).
  var command: String { get }
  /// The minimums and what the run reached.
  var work: [WorkMeasure] { get }
  /// What broke, by kind.
  var violations: [ViolationSummary] { get }
  /// Where the tool itself ran short, by kind (none unless the report says so).
  var shortfalls: [Shortfall] { get }
  /// The human-readable report, ending with ``Outcome/lines``.
  var text: String { get }
}

extension CheckReport {
  /// No shortfalls, for reports of runs that cannot run short.
  public var shortfalls: [Shortfall] { [] }

  /// What the run concluded, with what it rests on: the work done, the violations found,
  /// where the tool ran short.
  public var outcome: Outcome {
    Outcome(work: work, violations: violations, shortfalls: shortfalls)
  }

  /// The conclusion.
  public var verdict: Verdict { outcome.verdict }

  /// The whole text report: the verdict first, then `header`'s lines, the report itself
  /// (ending with its `result:` line) and the command line that repeats the run.
  public func document(header: ReportHeader) -> String {
    ([outcome.headline] + header.lines + [text, "replay: \(header.replay)"])
      .joined(separator: "\n")
  }

  /// The JSON report: `verdict` first, then `header`, then the report's own fields in
  /// alphabetical order; pretty printed, ending with a newline.
  public func jsonDocument(header: ReportHeader?) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var fields = ["  \"verdict\" : \"\(verdict.rawValue)\""]
    if let header {
      let text = String(decoding: try encoder.encode(header), as: UTF8.self)
      fields.append("  \"header\" : " + text.replacingOccurrences(of: "\n", with: "\n  "))
    }
    let body = String(decoding: try encoder.encode(self), as: UTF8.self)
    // The body is one pretty-printed object, `{\n  ...\n}`: its fields go on after these.
    let inner = body.dropFirst(2).dropLast(2)
    if !inner.isEmpty { fields.append(String(inner)) }
    return Data(("{\n" + fields.joined(separator: ",\n") + "\n}\n").utf8)
  }

  /// Prints the report (under `header`), writes it to `json` if given, and returns the
  /// exit status, which is always the verdict's: a report that cannot be written never
  /// costs the verdict. The write failure goes to stderr, saying that the verdict above
  /// stands; the path was checked (by creating the file) before the run started, so only
  /// what changed during the run (the folder removed, the disk full) can fail here.
  public func deliver(json: JSONDestination?, header: ReportHeader) -> Int32 {
    print(document(header: header))
    guard let json else { return verdict.exitStatus }
    do {
      try json.write(jsonDocument(header: header))
    } catch {
      FileHandle.standardError.write(
        Data(
          ("stress: \(error); the verdict above (\(verdict.rawValue), exit "
            + "\(verdict.exitStatus)) stands\n").utf8))
    }
    return verdict.exitStatus
  }
}

/// Where `--json` goes, checked before a run starts so that a typo in the path cannot cost
/// the verdict of a long run.
public struct JSONDestination: Sendable {
  /// The path as given.
  public let path: String

  /// Checks that `path` can be written by opening it for writing, as the report will:
  /// its folder must exist and the file be creatable (or, if it exists, writable and not
  /// a folder). A file this check creates is removed again, so nothing is left behind
  /// when the run never gets to its report.
  public init(validating path: String) throws(SetupFailure) {
    guard !path.isEmpty else { throw SetupFailure(message: "--json needs a file path") }
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue
    else {
      throw SetupFailure(message: "--json \(path): the folder \(folder) does not exist")
    }
    let existed = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
    if existed && isFolder.boolValue {
      throw SetupFailure(message: "--json \(path) is a folder, not a file")
    }
    // The same call the report's write makes (no O_TRUNC: an existing file keeps its
    // contents until the report replaces it).
    let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw SetupFailure(
        message: "--json \(path) cannot be written: \(String(cString: strerror(errno)))")
    }
    close(descriptor)
    if !existed { unlink(path) }
    self.path = path
  }

  /// Writes `data` to the file, replacing what it held.
  public func write(_ data: Data) throws(SetupFailure) {
    do {
      try data.write(to: URL(fileURLWithPath: path))
    } catch {
      throw SetupFailure(message: "cannot write \(path): \(error.localizedDescription)")
    }
  }

  /// Writes `value` as pretty JSON with sorted keys.
  public func write(_ value: some Encodable) throws(SetupFailure) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data: Data
    do {
      data = try encoder.encode(value)
    } catch {
      throw SetupFailure(message: "cannot encode the report for \(path): \(error)")
    }
    try write(data)
  }
}
