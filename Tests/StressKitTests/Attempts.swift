import Foundation

/// Randomized runs that a loaded machine can leave unsettled: a clean run starved into
/// `inconclusive`, or a fault that fired too rarely to be caught (a nested unlock ending the
/// outer section 1 time in 100 was caught within 0.02 s idle; beside two CPU hogs, where
/// readers ran 4,000 sections a second, 2 runs of 6 stayed clean for 10 s).
///
/// Runs `attempt` with 0, 1, 2... (the caller derives a seed or a duration from it) until
/// `settles` accepts a result, at most `limit` times and no new attempt after `budget`. A
/// settling result ends it at once, so a false alarm is never retried away, and a detector
/// that misses on an idle machine still fails: every attempt misses. Returns every result,
/// the last one settling if any did.
func attempts<Result>(
  limit: Int, budget: Duration = .seconds(60), until settles: (Result) -> Bool,
  _ attempt: (Int) throws -> Result
) rethrows -> [Result] {
  let deadline = ContinuousClock.now + budget
  var results: [Result] = []
  for index in 0..<limit {
    let result = try attempt(index)
    results.append(result)
    if settles(result) || ContinuousClock.now >= deadline { break }
  }
  return results
}
