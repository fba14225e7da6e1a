/// Paired rounds that go on while the targets they judge cannot tell yet: `measure(round)`
/// runs for round 0, 1, ...: `settings.rounds` times, then, while `resolved` says the rounds
/// so far leave a target unsettled (``TargetVerdict/isSettled``: its interval straddles the
/// limit and is wider than the target's margin), more, up to `settings.maximumRounds` rounds
/// or until the rounds have taken `settings.resolveSeconds` in all.
///
/// Each round measures every configuration its targets compare, side by side, so that a
/// target's value is computed within a round, from measurements drift touched alike.
func resolvingRounds<Round>(
  _ settings: BenchSettings, title: String, measure: (Int) throws -> Round,
  resolved: ([Round]) -> Bool
) rethrows -> [Round] {
  let start = monotonicNanos()
  var rounds: [Round] = []
  while rounds.count < settings.rounds
    || (rounds.count < settings.maximumRounds
      && Double(monotonicNanos() - start) / 1e9 < settings.resolveSeconds && !resolved(rounds))
  {
    rounds.append(try measure(rounds.count))
    if rounds.count > settings.rounds {
      settings.progress("\(title): round \(rounds.count), a target still unresolved")
    }
  }
  return rounds
}
