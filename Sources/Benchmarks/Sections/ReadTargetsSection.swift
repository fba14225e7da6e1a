/// The read side's targets, each judged on its own paired rounds: every round runs the
/// configurations the targets compare side by side (in rotated order), each target's value
/// is computed within the round, and the verdict is the median over rounds with a 95%
/// bootstrap interval. Rounds go on, for the targets still unresolved, while their interval
/// straddles the limit and is wider than the target's margin (``resolvingRounds``).
///
/// The tables of ``ReadSideSection`` describe every configuration; this section resolves
/// the few its targets need.
public struct ReadTargetsSection: BenchSection {
  /// Every round's samples, in the order measured.
  public struct Result: Codable, Sendable, Equatable {
    /// One list per round: each configuration measured in that round, once.
    public var rounds: [[ReadSample]]
  }

  /// How a target compares its two configurations within a round.
  enum Comparison {
    /// CPU time per dispatch of the first over the second's.
    case cost
    /// Throughput of the first over the second's.
    case throughput
    /// 1 - throughput of the first (churned) over the second's (quiet).
    case loss
  }

  /// A target on two configurations.
  struct PairedTarget {
    let target: Target
    let comparison: Comparison
    let first: ReadConfiguration
    let second: ReadConfiguration

    /// The target's value in one round, if the round measured both configurations.
    func value(_ round: [ReadSample]) -> Double? {
      guard let a = round.first(where: { $0.configuration == first }),
        let b = round.first(where: { $0.configuration == second })
      else { return nil }
      return switch comparison {
      case .cost: a.nanosPerDispatch / b.nanosPerDispatch
      case .throughput: a.throughput / b.throughput
      case .loss: 1 - a.throughput / b.throughput
      }
    }

    func values(_ rounds: [[ReadSample]]) -> [Double] { rounds.compactMap(value) }
  }

  /// The section.
  public init() {}

  /// `readTargets`.
  public var key: String { "readTargets" }

  /// Selected with the read side, by `read`.
  public var option: String { "read" }

  /// `read-side targets`.
  public var title: String { "read-side targets" }

  /// The read-side targets whose configurations `settings` select.
  static func targets(_ settings: BenchSettings) -> [PairedTarget] {
    func one(_ design: Design, _ entries: Int = 64, threads: Int = 1, _ churn: Churn = .none)
      -> ReadConfiguration
    {
      ReadConfiguration(design, entries: entries, threads: threads, churn: churn)
    }
    var targets = [(Design.memb, 1.2), (.qsbr, 1.02)].map { design, limit in
      PairedTarget(
        target: Target(
          "1 thread, 64 entries: RCU bus (\(design.rawValue)) <= \(limit)x the floor",
          .atMost(limit)),
        comparison: .cost, first: one(design), second: one(.floor))
    }
    targets.append(
      PairedTarget(
        target: Target(
          "2 threads, 64 entries: RCU bus (memb) >= 1.9x its 1-thread throughput", .atLeast(1.9)),
        comparison: .throughput, first: one(.memb, threads: 2), second: one(.memb)))
    for other in [Design.rwlock, .swapped] {
      targets.append(
        PairedTarget(
          target: Target(
            "2 threads, 64 entries: RCU bus (memb) >= 15x \(other.label)", .atLeast(15)),
          comparison: .throughput, first: one(.memb, threads: 2), second: one(other, threads: 2)))
    }
    targets.append(
      PairedTarget(
        target: Target(
          "1 thread: RCU bus (memb) at 10000 entries <= 2.5x its 16-entry cost", .atMost(2.5)),
        comparison: .cost, first: one(.memb, 10000), second: one(.memb, 16)))
    for threads in [1, 2] {
      targets.append(
        PairedTarget(
          target: Target(
            "\(threads) thread(s), 64 entries: churn at 1000/s costs memb readers <= 5%",
            .atMost(0.05), margin: 0.05),
          comparison: .loss, first: one(.memb, threads: threads, .rate1000),
          second: one(.memb, threads: threads)))
    }
    return targets.filter {
      $0.first.isSelected(by: settings) && $0.second.isSelected(by: settings)
    }
  }

  /// Measures the targets' configurations in paired rounds until the targets resolve.
  public func measure(_ settings: BenchSettings) throws -> Result {
    let targets = Self.targets(settings)
    let all = targets.flatMap { [$0.first, $0.second] }.reduce(into: [ReadConfiguration]()) {
      if !$0.contains($1) { $0.append($1) }
    }
    guard !all.isEmpty else { return Result(rounds: []) }
    var buses: [Int: DesignTargets] = [:]
    for entries in Set(all.map(\.entries)) { buses[entries] = try DesignTargets(entries: entries) }
    defer { for bus in buses.values { bus.barrier() } }
    var unresolved = targets
    let rounds = try resolvingRounds(settings, title: title) { round in
      // Later rounds run only what the unresolved targets compare.
      let needed =
        round < settings.rounds
        ? all
        : all.filter { configuration in
          unresolved.contains { $0.first == configuration || $0.second == configuration }
        }
      return try (0..<needed.count).map { offset in
        let configuration = needed[(round + offset) % needed.count]
        let run = try buses[configuration.entries]!.measure(
          configuration.design, threads: configuration.threads, churn: configuration.churn,
          seconds: settings.seconds)
        precondition(run.unclaimed == 0, "a read-side target's dispatch went unclaimed")
        return ReadSample(
          configuration: configuration, throughput: run.throughput,
          nanosPerDispatch: run.nanosPerDispatch, unclaimed: run.unclaimed)
      }
    } resolved: { rounds in
      unresolved.removeAll { $0.target.judge(rounds: $0.values(rounds), figure: "").isSettled }
      return unresolved.isEmpty
    }
    return Result(rounds: rounds)
  }

  /// Each configuration's median over its rounds.
  public func render(_ result: Result) -> String {
    guard !result.rounds.isEmpty else { return "" }
    var text = ReportText(
      heading: "READ-SIDE TARGETS (\(result.rounds.count) paired rounds: each runs the compared "
        + "configurations side by side;",
      "a target's value is computed within each round, its verdict is the median over rounds "
        + "with a 95% bootstrap interval)")
    let columns: [TextColumn] = [.left(44), .right(8), .right(10), .right(10)]
    text.row(columns, "configuration", "rounds", "Mdisp/s", "ns/disp")
    for (configuration, samples) in bySample(result) {
      text.row(
        columns, configuration.description, "\(samples.count)",
        fixed(Spread(samples.map(\.throughput)).median / 1e6, 1),
        fixed(Spread(samples.map(\.nanosPerDispatch)).median, 2))
    }
    return text.text
  }

  /// Every target whose configurations were measured, on its paired rounds.
  public func judge(_ result: Result, settings: BenchSettings) -> [TargetVerdict] {
    Self.targets(settings).compactMap { paired in
      let values = paired.values(result.rounds)
      guard !values.isEmpty else { return nil }
      let median = Spread(values).median
      let figure: String
      switch paired.comparison {
      case .cost:
        let first = Spread(samples(paired.first, result).map(\.nanosPerDispatch)).median
        let second = Spread(samples(paired.second, result).map(\.nanosPerDispatch)).median
        figure = "\(fixed(median))x (\(fixed(first)) vs \(fixed(second)) ns)"
      case .throughput:
        figure = "\(fixed(median))x"
      case .loss:
        figure = "\(fixed(median * 100))% lost"
      }
      return paired.target.judge(
        rounds: values, figure: figure + ", \(values.count) rounds")
    }
  }

  /// The configurations' medians as a table.
  public func figures(_ result: Result, settings: BenchSettings) -> SectionFigures {
    guard !result.rounds.isEmpty else { return SectionFigures() }
    return SectionFigures(tables: [
      FigureTable(
        title: "Read-side targets: paired rounds (median over rounds)",
        columns: ["configuration", "rounds", "million dispatches/s", "CPU ns per dispatch"],
        rows: bySample(result).map { configuration, samples in
          [
            configuration.description, "\(samples.count)",
            fixed(Spread(samples.map(\.throughput)).median / 1e6, 1),
            fixed(Spread(samples.map(\.nanosPerDispatch)).median, 2),
          ]
        })
    ])
  }

  /// Each configuration's samples, in the order first measured.
  private func bySample(_ result: Result) -> [(ReadConfiguration, [ReadSample])] {
    var order: [ReadConfiguration] = []
    for sample in result.rounds.joined() where !order.contains(sample.configuration) {
      order.append(sample.configuration)
    }
    return order.map { ($0, samples($0, result)) }
  }

  private func samples(_ configuration: ReadConfiguration, _ result: Result) -> [ReadSample] {
    result.rounds.joined().filter { $0.configuration == configuration }
  }
}
