import StressKit

/// Runs a checking command's `body` under the crash guard and delivers its report (on
/// stdout, and to `json` when given); ends by throwing the verdict's ``ExitStatus``.
///
/// The guard goes in before `body` runs, so that a crash in the run still leaves a report
/// with `header` (and its replay line).
func deliverCheck(
  _ command: String, json: JSONDestination?, header: ReportHeader,
  _ body: () throws -> any CheckReport
) throws -> Never {
  CrashGuard.install(command: command, json: json, header: header)
  let report = try body()
  throw ExitStatus(code: report.deliver(json: json, header: header))
}

extension CommonOptions {
  /// ``deliverCheck(_:json:header:_:)`` with this command's `--json` and a header whose
  /// replay line is `replay`.
  func runCheck(
    _ command: String, replay: [String], _ body: () throws -> any CheckReport
  ) throws -> Never {
    let json = try jsonDestination()
    try deliverCheck(command, json: json, header: ReportHeader(replay: replay), body)
  }
}
