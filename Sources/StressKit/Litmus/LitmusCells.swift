/// The memory one litmus test's reader and writer share, each cell on a cache line of its
/// own: a published slot index, the slots it names (each holds a stamp, the per-test
/// iteration that initialized it, or ``poison``), whether each slot may be used again (the
/// callback test: its callback has poisoned it), and the store-buffering test's two flags.
struct LitmusCells: Sendable {
  /// What a slot holds once it may no longer be read.
  static let poison: UInt64 = 0xDEAD_DEAD_DEAD_DEAD

  let words: LitmusWords
  let slotCount: Int

  /// `slots` slots; slot 0, holding stamp 0, is published and in use.
  init(slots: Int) {
    slotCount = slots
    words = LitmusWords(count: (3 + 2 * slots) * LitmusWords.line)
    for slot in 1..<slots { words.storeRelaxed(reusableIndex(slot), 1) }
  }

  /// The published slot (message passing: the published stamp).
  var published: Int { 0 }
  /// Store buffering: the reader's flag.
  var x: Int { LitmusWords.line }
  /// Store buffering: the writer's flag.
  var y: Int { 2 * LitmusWords.line }

  /// Slot `slot`'s value.
  @inline(__always)
  func slotIndex(_ slot: Int) -> Int { (3 + slot) * LitmusWords.line }

  /// Whether slot `slot` may be used again (1) or not (0).
  @inline(__always)
  func reusableIndex(_ slot: Int) -> Int { (3 + slotCount + slot) * LitmusWords.line }
}
