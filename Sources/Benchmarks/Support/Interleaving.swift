/// Measures every item once per round, for `rounds` rounds, rotating which item goes first
/// (round `r` starts with item `r mod count`), so that drift (CPU frequency, other load on the
/// machine) hits them all alike. `measure` gets the item and the round.
///
/// Returns the samples item by item, each in round order: `result[item][round]`.
func interleavedRounds<Item, Sample>(
  _ items: [Item], rounds: Int, _ measure: (Item, Int) throws -> Sample
) rethrows -> [[Sample]] {
  var samples = [[Sample]](repeating: [], count: items.count)
  for round in 0..<rounds {
    for offset in 0..<items.count {
      let index = (round + offset) % items.count
      samples[index].append(try measure(items[index], round))
    }
  }
  return samples
}
