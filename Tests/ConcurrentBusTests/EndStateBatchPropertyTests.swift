import BusModel
import ConcurrentBus
import RCU
import Testing

/// Batches of moves, registrations and removals among a few places, so that most batches
/// pass through overlapping or colliding states (swaps, chains, remove-then-add), held to
/// ``BusModel``'s end-state rules: the bus must publish exactly when the model's end state is
/// valid, and otherwise throw the model's error, naming the same entries.
@Suite("End-state batches against the model")
struct EndStateBatchPropertyTests {
  typealias Operation = IOBusPropertyTests.Operation

  /// Places a few ranges of two lengths and a few value matches compete for.
  static func randomOperation(_ rng: inout SeededGenerator) -> Operation {
    let slot = { (rng: inout SeededGenerator) in 0x100 * UInt64.random(in: 1...5, using: &rng) }
    switch Int.random(in: 0..<10, using: &rng) {
    case 0, 1:
      return .range(
        base: slot(&rng), length: Bool.random(using: &rng) ? 0x100 : 0x180, accepts: true)
    case 2:
      let match: ValueMatch =
        Bool.random(using: &rng) ? .any : .value(.random(in: 0..<3, using: &rng))
      return .valueMatch(
        address: 0x40 + 4 * .random(in: 0..<3, using: &rng),
        size: [0, 4].randomElement(using: &rng)!,
        match: match, accepts: true)
    case 3...7:
      // Mostly ranges onto range places, sometimes a match onto a match address.
      let to =
        Int.random(in: 0..<4, using: &rng) == 0
        ? 0x40 + 4 * .random(in: 0..<3, using: &rng) : slot(&rng)
      return .move(pick: .random(in: 0..<1000, using: &rng), to: to, stale: false)
    default:
      return .unregister(pick: .random(in: 0..<1000, using: &rng), stale: false)
    }
  }

  @Test(
    "random batches through overlapping states agree with the model (some buses limited)",
    arguments: 1...24)
  func agreesWithModel(seed: UInt64) throws {
    var rng = SeededGenerator(seed: seed &* 0x9E37)
    let limit = seed % 3 == 0 ? Int.random(in: 3...6, using: &rng) : .max
    var harness = try IOBusPropertyTests.Harness(space: .mmio, maximumEntries: limit)
    var published = 0
    var refused: [String: Int] = [:]
    for step in 0..<150 {
      let size = Int.random(in: 1...8, using: &rng)
      let operations = (0..<size).map { _ in Self.randomOperation(&rng) }
      if let error = harness.batch(operations) {
        refused["\(error)".prefix(while: { $0 != "(" }).description, default: 0] += 1
      } else {
        published += 1
      }
      harness.check(&rng, step: step, seed: seed)
    }
    // The run must have exercised both outcomes, or it proves little.
    #expect(published >= 20, "seed \(seed): only \(published) batches published")
    #expect(refused["rangesOverlap", default: 0] >= 5, "seed \(seed): \(refused)")
    if limit != .max { #expect(refused["tableFull", default: 0] >= 1, "seed \(seed): \(refused)") }
    MembRCU.barrier()
    #expect(harness.bus.retiredSnapshots == 0 && harness.bus.reclamationBacklog.isEmpty)
  }
}
