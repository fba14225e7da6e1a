import ArgumentParser
import Foundation
import StressKit

/// `stress faults`: runs the fault catalogue and prints how fast each fault is caught.
struct FaultsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "faults",
    abstract: "Runs every catalogue fault on several seeds, plus clean runs, and tabulates them.",
    discussion: """
      Each run is a child process of this binary (a crashing fault costs one row, not the \
      table). A fault row is met when every seed exits 1 with one of the fault's detectors \
      reported within --duration seconds; the rare row (a grace period skipped 1 in \
      --rare-every synchronize calls) within --rare-duration; a clean row when every run \
      exits 0. A row where a run could not judge (exit 2, inconclusive) and nothing missed \
      is inconclusive. Exit status: 0 when every target is met, 1 when a fault escaped or a \
      clean run flagged, 2 when a row was inconclusive or for bad usage.

      Bounds: each child run ends within its duration plus max(2 s, 10%) (killed, and its \
      row missed, a second after that), so the campaign takes at most the sum, printed \
      when it starts. Descriptors and memory: those of one child at a time.
      """
  )

  @Flag(help: "Print the catalogue and exit.")
  var list = false

  @Option(help: "Seeds per fault.")
  var seeds = 3

  @Option(help: "Seconds per fault run, and the time within which each must be caught.")
  var duration = 10.0

  @Option(help: "The flavor faults run on (faults that need their own flavor keep it).")
  var flavor = FlavorChoice.shipped(.memb)

  @Option(help: "The rare case: a grace period skipped once in N synchronize calls; 0 skips it.")
  var rareEvery = 10_000

  @Option(help: "Seconds for each rare-case run, and its target.")
  var rareDuration = 60.0

  @Option(help: "Clean torture runs per clean flavor.")
  var cleanRuns = 20

  @Option(help: "Seconds per clean run.")
  var cleanDuration = 10.0

  @Option(help: "Comma-separated flavors for the clean runs.")
  var cleanFlavors = "memb,bp"

  @Option(help: "Comma-separated faults to run (name or command/name); all when omitted.")
  var only: String?

  @Option(help: "The RCU library runs on --flavor loaded use (see stress torture --help).")
  var rcuLibrary: String?

  @Option(help: "Also write the table as JSON to this path.")
  var json: String?

  var plan: FaultCampaignPlan {
    var plan = FaultCampaignPlan()
    plan.seeds = seeds
    plan.duration = duration
    plan.flavor = flavor
    plan.rareEvery = rareEvery
    plan.rareDuration = rareDuration
    plan.cleanRuns = cleanRuns
    plan.cleanDuration = cleanDuration
    plan.cleanFlavors = cleanFlavors.split(separator: ",").compactMap {
      FlavorChoice(rawValue: String($0))
    }
    plan.only = only.map { $0.split(separator: ",").map(String.init) } ?? []
    plan.rcuLibrary = rcuLibrary.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    return plan
  }

  func validate() throws {
    guard (1...100).contains(seeds) else { throw ValidationError("--seeds must be 1 to 100") }
    guard (0...1000).contains(cleanRuns) else {
      throw ValidationError("--clean-runs must be 0 to 1000")
    }
    guard rareEvery >= 0 else { throw ValidationError("--rare-every must not be negative") }
    for seconds in [duration, rareDuration, cleanDuration] where !(seconds > 0 && seconds.isFinite)
    {
      throw ValidationError("durations must be positive numbers of seconds")
    }
    let flavors = cleanFlavors.split(separator: ",")
    if let bad = flavors.first(where: { FlavorChoice(rawValue: String($0)) == nil }) {
      throw ValidationError("--clean-flavors: no flavor named \(bad)")
    }
    if plan.faults.isEmpty { throw ValidationError("--only matches no catalogue fault") }
    let usesLoaded = flavor == .shipped(.loaded) || plan.cleanFlavors.contains(.shipped(.loaded))
    if usesLoaded != (rcuLibrary != nil) {
      throw ValidationError("--rcu-library goes with --flavor loaded or --clean-flavors loaded")
    }
  }

  func run() throws {
    if list {
      print(FaultCatalogue.text(of: plan.faults))
      return
    }
    // Checked before the campaign, so a typo in the path cannot cost a ten-minute table.
    let destination = try json.map { path throws(SetupFailure) in
      try JSONDestination(validating: path)
    }
    let campaign = FaultCampaign(plan: plan, executable: try Self.ownExecutable())
    FileHandle.standardError.write(
      Data(
        String(
          format: "faults: %d fault row(s), at most %.0f s in all (each child run bounded)\n",
          plan.faults.count, plan.longestSeconds
        ).utf8))
    let report = try campaign.run { line in
      FileHandle.standardError.write(Data((line + "\n").utf8))
    }
    print(report.text)
    do {
      try destination?.write(report)
    } catch {
      // The table above stands: a report that cannot be written never changes the status.
      FileHandle.standardError.write(Data("stress: \(error)\n".utf8))
    }
    throw ExitStatus(code: report.exitStatus)
  }

  /// This binary, which the campaign runs again for each row.
  static func ownExecutable() throws -> URL {
    guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    else {
      throw SetupFailure(message: "cannot find this executable through /proc/self/exe")
    }
    return URL(fileURLWithPath: path)
  }
}
