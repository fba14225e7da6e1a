/// The `membarrier` system calls one churn run makes, flavor by flavor (see
/// ``MembarrierProbe``): qsbr's grace periods must make none.
public struct MembarrierSection: BenchSection {
  /// One flavor's count.
  public struct Count: Codable, Sendable, Equatable {
    /// The flavor.
    public var flavor: BenchFlavor
    /// Busy reader threads.
    public var readers: Int
    /// How long the run was.
    public var seconds: Double
    /// membarrier calls inside the run, any command; nil when not measured.
    public var calls: Int?
    /// Updates the writer made inside the run: each waits for a grace period (an unregister)
    /// or hands one to the reclaimer (a register), so 0 calls means grace periods without
    /// one.
    public var updates: Int?
    /// Why the run was not measured, if it was not.
    public var unavailableReason: String?
  }

  /// How the child runs.
  public var probe: MembarrierProbe
  /// Seconds per flavor; nil for 1 (0.5 with `quick`).
  public var seconds: Double?

  /// The section, running `probe` for `seconds` per flavor.
  public init(probe: MembarrierProbe = .stressBench, seconds: Double? = nil) {
    self.probe = probe
    self.seconds = seconds
  }

  /// `membarrier`.
  public var key: String { "membarrier" }

  /// `membarrier counts`.
  public var title: String { "membarrier counts" }

  /// Runs the probe of every flavor, one child process each, a reader on every core.
  public func measure(_ settings: BenchSettings) -> [Count] {
    let seconds = self.seconds ?? (settings.quick ? 0.5 : 1)
    return settings.flavors.map { flavor in
      var count = Count(flavor: flavor, readers: settings.cores, seconds: seconds)
      do {
        (count.calls, count.updates) = try probe.trace(flavor: flavor, seconds: seconds)
      } catch {
        count.unavailableReason = "\(error)"
      }
      return count
    }
  }

  /// One line per flavor.
  public func render(_ counts: [Count]) -> String {
    guard !counts.isEmpty else { return "" }
    var text = ReportText(
      heading:
        "MEMBARRIER SYSTEM CALLS (strace on a churn run: readers on every core, 1000 updates/s)")
    let flavor = TextColumn.left(8)
    for count in counts {
      if let calls = count.calls, let updates = count.updates {
        text.line(
          "  \(flavor.pad(count.flavor.rawValue)) \(calls) calls during \(fixed(count.seconds, 1))"
            + " s, \(updates) updates, \(count.readers) readers")
      } else {
        text.line(
          "  \(flavor.pad(count.flavor.rawValue)) not measured: \(count.unavailableReason ?? "-")")
      }
    }
    return text.text
  }

  /// No membarrier call during a qsbr churn run; memb's run shows the probe can see them.
  public func judge(_ counts: [Count], settings: BenchSettings) -> [TargetVerdict] {
    guard let qsbr = counts.first(where: { $0.flavor == .qsbr }) else { return [] }
    let target = Target("no membarrier system call during a qsbr churn run", .exactly(0))
    guard let calls = qsbr.calls, let updates = qsbr.updates else {
      return [
        target.judge(nil, figure: "not measured: \(qsbr.unavailableReason ?? "unknown")")
      ]
    }
    let memb = counts.first { $0.flavor == .memb }
    let membCalls = memb?.calls ?? 0
    // A count of 0 means something only if the probe saw memb's calls and qsbr's run made
    // grace periods (at least 100 updates: each waits for or hands over a grace period).
    let enoughWork = updates >= 100
    var figure =
      "qsbr \(calls) calls in \(updates) updates; memb \(memb?.calls.map(String.init) ?? "-") "
      + "calls in \(memb?.updates.map(String.init) ?? "-") updates"
    if membCalls == 0 { figure += " (memb made none either: the count proves nothing)" }
    if !enoughWork { figure += " (too few updates for the count to mean anything)" }
    return [target.judge(Double(calls), figure: figure, conclusive: membCalls > 0 && enoughWork)]
  }

  /// A table of the counts.
  public func figures(_ counts: [Count], settings: BenchSettings) -> SectionFigures {
    guard !counts.isEmpty else { return SectionFigures() }
    return SectionFigures(tables: [
      FigureTable(
        title: "membarrier system calls during a churn run (strace; a busy reader on every "
          + "core, 1000 updates/s)",
        columns: ["flavor", "calls", "updates", "seconds"],
        rows: counts.map { count in
          guard let calls = count.calls, let updates = count.updates else {
            return [
              count.flavor.rawValue, "not measured: \(count.unavailableReason ?? "-")", "-", "-",
            ]
          }
          return [count.flavor.rawValue, "\(calls)", "\(updates)", fixed(count.seconds, 1)]
        })
    ])
  }
}
