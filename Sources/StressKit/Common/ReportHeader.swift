import Foundation

/// What a report says about itself so that it stands alone: the tool and the build that
/// ran, the host, when, and the command line that runs it again. Printed under the verdict
/// at the top of every text report (the command line again as its last line) and written
/// right after `verdict` at the top of every JSON report.
public struct ReportHeader: Encodable, Sendable {
  /// The tool: its version, the commit it was built from, the liburcu it was built against.
  public let tool: ToolIdentity
  /// The machine it ran on.
  public let host: HostIdentity
  /// When the run started, in UTC (ISO 8601).
  public let startedAt: String
  /// The command line that repeats the run: every setting that decides what it does
  /// (seed, sizes, flavor, fault and its rate) spelled out, defaults included.
  public let replay: String

  /// A header for a run starting now, repeated by `replay` (the words after the
  /// executable, which is ``executable``).
  public init(replay arguments: [String], started: Date = Date()) {
    tool = .current
    host = .current
    let format = ISO8601DateFormatter()
    format.formatOptions = [.withInternetDateTime]
    startedAt = format.string(from: started)
    replay = ([Self.executable] + arguments).map(shellQuoted).joined(separator: " ")
  }

  /// The executable as the user typed it (`.build/release/stress`), or `stress` when this
  /// process is not the stress tool (a test).
  public static var executable: String {
    let typed = CommandLine.arguments.first ?? "stress"
    return URL(fileURLWithPath: typed).lastPathComponent == "stress" ? typed : "stress"
  }

  /// The lines a text report starts with, under its verdict.
  var lines: [String] {
    [
      "\(tool.name) \(tool.version) (commit \(tool.commit), liburcu \(tool.liburcuVersion)), "
        + "started \(startedAt)",
      "host: \(host.text)",
    ]
  }
}

/// The tool that wrote a report.
public struct ToolIdentity: Encodable, Sendable {
  /// `stress`.
  public let name: String
  /// The package's version.
  public let version: String
  /// The git commit it was built from (`-modified` when tracked files differed), or
  /// `unknown` when built outside a git checkout.
  public let commit: String
  /// The liburcu version it was built against (`pkg-config --modversion liburcu`).
  public let liburcuVersion: String

  /// This build.
  public static let current = ToolIdentity(
    name: "stress", version: "0.1.0", commit: BuildInfo.commit,
    liburcuVersion: BuildInfo.liburcuVersion)
}

/// Puts `word` in single quotes when a shell would split or expand it.
func shellQuoted(_ word: String) -> String {
  let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
  guard !plain || word.isEmpty else { return word }
  return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
}
