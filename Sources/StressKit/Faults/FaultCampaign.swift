import Foundation

/// What `stress faults` runs: every catalogue fault at its rate on a few seeds, the rare
/// case (a grace period skipped once in 10,000), and clean runs that must never flag.
public struct FaultCampaignPlan: Codable, Sendable {
  /// Seeds per fault (1 through `seeds`).
  public var seeds = 3
  /// Each fault run's duration, which is also its target: caught within this many seconds.
  public var duration = 10.0
  /// The flavor faults run on, unless the fault needs its own.
  public var flavor = FlavorChoice.shipped(.memb)
  /// The rare case: `torture --fault skip-grace-period --fault-every rareEvery`; 0 skips it.
  public var rareEvery = 10_000
  /// The rare case's duration and target.
  public var rareDuration = 60.0
  /// Clean torture runs, and as many clean litmus runs, per flavor in `cleanFlavors`, none
  /// of which may flag.
  public var cleanRuns = 20
  public var cleanDuration = 10.0
  public var cleanFlavors: [FlavorChoice] = [.shipped(.memb), .shipped(.bp)]
  /// Run only the faults whose name (or `command/name`) is listed; all when empty.
  public var only: [String] = []
  /// The shared object runs on the `loaded` flavor use (`--rcu-library`).
  public var rcuLibrary: String?

  /// The default campaign: the issue's targets.
  public init() {}

  /// What a child's command line needs to run on `flavor`.
  func flavorArguments(_ flavor: FlavorChoice) -> [String] {
    guard flavor == .shipped(.loaded), let rcuLibrary else { return [] }
    return ["--rcu-library", rcuLibrary]
  }

  /// How long a child run of `duration` seconds may take before it is killed (and its row
  /// missed): its own bound, the duration plus max(2 s, 10%), and a second for its process
  /// to start and end. A child that needs the kill has a bug: every run ends itself.
  static func childLimit(_ duration: Double) -> Double {
    duration + RunBudget.grace(for: duration) + 1
  }

  /// The longest the whole campaign can take: every child at its limit.
  public var longestSeconds: Double {
    let faultRuns = Double(faults.count * seeds) * Self.childLimit(duration)
    let rare = rareEvery > 0 ? Double(seeds) * Self.childLimit(rareDuration) : 0
    let clean = Double(cleanRuns * cleanFlavors.count) * Self.childLimit(2 * cleanDuration)
    return faultRuns + rare + clean
  }

  /// The catalogue faults this plan runs.
  public var faults: [CatalogueFault] {
    FaultCatalogue.all.filter { fault in
      (only.isEmpty || only.contains(fault.name) || only.contains(fault.id))
        && !fault.unsupportedFlavors.contains(fault.flavor ?? flavor)
    }
  }
}

extension CatalogueFault {
  /// `command/name`, unique in the catalogue.
  public var id: String { "\(command)/\(name)" }
}

/// One line of the campaign's table: a fault (or the clean runs of a flavor) and its runs.
public struct FaultCampaignRow: Codable, Sendable {
  /// `fault`, `rare` or `clean`.
  public let role: String
  public let fault: String
  public let rate: String
  public let flavor: String
  /// The detectors that must fire (empty for clean runs).
  public let detectors: [String]
  /// The time within which each run must catch the fault (or stay clean).
  public let targetSeconds: Double
  public let runs: [ChildRun]
  /// What the row came to.
  public let outcome: RowOutcome
  /// Whether every run met the target (``outcome`` is ``RowOutcome/met``), kept in the JSON
  /// for readers of older reports.
  public let met: Bool

  /// What a row of the campaign came to.
  public enum RowOutcome: String, Codable, Sendable {
    /// Every fault run caught the fault in time; every clean run was clean.
    case met
    /// A fault run ended without catching it (clean, another violation, late, killed), or
    /// a clean run reported a violation.
    case missed
    /// Nothing missed, but some run could not judge (exit 2, inconclusive): on an
    /// overloaded machine, the tool running short is not a fault escaping.
    case inconclusive
  }

  /// The outcome of a fault row: a seed that caught it in time is met; one that ended
  /// inconclusive (exit 2) without catching it could not judge; any other is a miss.
  static func faultOutcome(_ runs: [ChildRun], detectors: [String], target: Double) -> RowOutcome {
    var outcome = RowOutcome.met
    for run in runs where (caughtSeconds(run, detectors: detectors) ?? .infinity) > target {
      if run.exitStatus == 2 && !run.timedOut { outcome = .inconclusive } else { return .missed }
    }
    return outcome
  }

  /// The outcome of a clean row: any violation (or crash, or kill) is a miss; any
  /// inconclusive run makes the row inconclusive.
  static func cleanOutcome(_ runs: [ChildRun]) -> RowOutcome {
    if runs.contains(where: { $0.exitStatus != 0 && $0.exitStatus != 2 }) { return .missed }
    return runs.allSatisfy { $0.exitStatus == 0 } ? .met : .inconclusive
  }

  /// For one fault run: whether a named detector caught it, and when it first fired (as
  /// the run measured it; the child's wall clock for a run that did not, like a crash).
  static func caughtSeconds(_ run: ChildRun, detectors: [String]) -> Double? {
    let fired = detectors.filter(run.kinds.contains)
    guard run.exitStatus == 1, !fired.isEmpty else { return nil }
    return fired.compactMap { run.firstSeen[$0] }.min() ?? run.wallSeconds
  }
}

/// Runs a ``FaultCampaignPlan`` in child processes of `executable` (the `stress` binary).
public struct FaultCampaign: Sendable {
  public let plan: FaultCampaignPlan
  public let executable: URL

  public init(plan: FaultCampaignPlan, executable: URL) {
    self.plan = plan
    self.executable = executable
  }

  /// Runs everything, calling `progress` after each child, and returns the rows.
  public func run(progress: (String) -> Void) throws -> FaultCampaignReport {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "stress-faults-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let started = Date()
    var rows: [FaultCampaignRow] = []
    for fault in plan.faults {
      rows.append(
        try faultRow(
          fault, role: "fault", every: nil, duration: plan.duration, folder: folder,
          progress: progress))
    }
    if plan.rareEvery > 0,
      let skip = FaultCatalogue.entry(command: "torture", name: "skip-grace-period"),
      plan.only.isEmpty || plan.faults.contains(skip)
    {
      rows.append(
        try faultRow(
          skip, role: "rare", every: plan.rareEvery, duration: plan.rareDuration,
          folder: folder, progress: progress))
    }
    for command in ["torture", "litmus"] {
      for flavor in plan.cleanFlavors where plan.cleanRuns > 0 {
        rows.append(try cleanRow(command, flavor, folder: folder, progress: progress))
      }
    }
    return FaultCampaignReport(
      plan: plan, rows: rows, elapsedSeconds: Date().timeIntervalSince(started))
  }

  private func faultRow(
    _ fault: CatalogueFault, role: String, every: Int?, duration: Double, folder: URL,
    progress: (String) -> Void
  ) throws -> FaultCampaignRow {
    let detectors = fault.detectors.map(\.rawValue)
    var runs: [ChildRun] = []
    for seed in 1...UInt64(plan.seeds) {
      let line =
        fault.commandLine(flavor: plan.flavor, duration: duration, seed: seed, every: every)
        + plan.flavorArguments(fault.flavor ?? plan.flavor)
      let run = try ChildRun.run(
        executable, line, limit: FaultCampaignPlan.childLimit(duration), folder: folder)
      runs.append(run)
      let caught = FaultCampaignRow.caughtSeconds(run, detectors: detectors)
      progress(
        "faults: \(line.joined(separator: " ")): exit \(run.statusText), "
          + (caught.map { String(format: "caught in %.3f s", $0) } ?? "NOT caught")
          + " [\(run.kinds.joined(separator: ", "))]")
    }
    let rate = every.map { "1 in \($0) synchronize calls" } ?? fault.rate
    let outcome = FaultCampaignRow.faultOutcome(runs, detectors: detectors, target: duration)
    return FaultCampaignRow(
      role: role, fault: fault.id, rate: rate, flavor: (fault.flavor ?? plan.flavor).rawValue,
      detectors: detectors, targetSeconds: duration, runs: runs,
      outcome: outcome, met: outcome == .met)
  }

  private func cleanRow(
    _ command: String, _ flavor: FlavorChoice, folder: URL, progress: (String) -> Void
  ) throws -> FaultCampaignRow {
    var runs: [ChildRun] = []
    // A clean run that did too little on a loaded machine may go on as long again; a litmus
    // run up to 30 s more: on bp, whose grace periods poll every 10 ms, the tests that wait
    // a grace period per iteration make a few hundred iterations a second.
    let extra = command == "litmus" ? max(plan.cleanDuration, 30) : plan.cleanDuration
    for seed in 1...UInt64(plan.cleanRuns) {
      let line =
        [
          command, "--flavor", flavor.rawValue, "--duration", String(plan.cleanDuration),
          "--minimum-work-within", String(extra), "--seed", String(seed),
        ] + plan.flavorArguments(flavor)
      let run = try ChildRun.run(
        executable, line, limit: FaultCampaignPlan.childLimit(plan.cleanDuration + extra),
        folder: folder)
      runs.append(run)
      progress(
        "faults: \(line.joined(separator: " ")): exit \(run.statusText)"
          + (run.kinds.isEmpty ? "" : " [\(run.kinds.joined(separator: ", "))]"))
    }
    return FaultCampaignRow(
      role: "clean", fault: "clean \(command)", rate: "-", flavor: flavor.rawValue,
      detectors: [], targetSeconds: plan.cleanDuration, runs: runs,
      outcome: FaultCampaignRow.cleanOutcome(runs),
      met: FaultCampaignRow.cleanOutcome(runs) == .met)
  }
}
