// The check of the table a batch ends with. Steps of a batch are checked only on their own
// (sizes, values, wrap-around); how the entries fit together is checked here, once, on the
// table the batch would publish: so a swap of two BARs, a chain of moves or a remove-then-add
// of one range work in any order, and a batch is refused only if its result is invalid.

/// What a batch made, to name the entries of a conflict by what its caller knows.
struct BatchOrigins {
  /// Identifiers from this one on were handed out by the batch.
  let firstID: UInt64
  /// For each entry the batch moved, the registration on the bus it was moved from (through
  /// any number of moves in between).
  var moves: [RegistrationID: Registration] = [:]

  /// The registration on the bus that `registration` comes from: itself when it was there
  /// before the batch, what it was moved from when the batch moved it, nil when the batch
  /// registered it.
  func origin(of registration: Registration) -> Registration? {
    registration.id.rawValue < firstID ? registration : moves[registration.id]
  }
}

extension BusState {
  /// Throws the first rule the table breaks, in this order: more entries than
  /// `maximumEntries` (``IOBusError/tableFull(limit:)``); an entry outside the address
  /// space, the first in table order (value matches by address, then ranges by base);
  /// overlapping ranges, the first pair by base; colliding value matches, the first pair
  /// by address then registration order.
  ///
  /// Only entries the batch added can break a rule (the others were on a valid table), so
  /// this looks at `steps`' additions that are still on the table and their neighbours:
  /// O(k log n) for k additions, with the ranges' rule checked on adjacent pairs only (in a
  /// list sorted by base, the first overlapping pair is always adjacent).
  func checkEndState(_ steps: [Step], origins: BatchOrigins) throws(IOBusError) {
    guard count <= maximumEntries else { throw .tableFull(limit: maximumEntries) }
    // No entry went in conflicting with its neighbours: nothing to search (a batch that
    // never passed through a conflict costs no more than before end-state checking).
    guard mayConflict else { return }
    var findings = Findings()
    // An addition is still there when its identifier is where its address puts it
    // (identifiers are never reused); a later step of the batch may have removed it.
    for case .added(let registration) in steps {
      switch registration.kind {
      case .range(let base, _):
        guard let index = Self.liveIndex(of: registration.id, first: base, in: ranges) else {
          continue
        }
        findings.note(range: index, in: self)
      case .valueMatch(let address, _, _):
        guard let index = Self.liveIndex(of: registration.id, first: address, in: matched)
        else { continue }
        findings.note(match: index, in: self)
      }
    }
    if let outside = findings.outside {
      let entry =
        outside.rank == Findings.rangeRank ? ranges[outside.index] : matched[outside.index]
      let (base, length, _) = handles[entry.id]!.registration.kind.extent
      throw .outsideAddressSpace(base: base, length: length)
    }
    if let first = findings.overlap {
      throw .rangesOverlap(
        name(ranges[first], origins: origins), name(ranges[first + 1], origins: origins))
    }
    if let (first, second) = findings.collision {
      throw .matchesCollide(
        name(matched[first], origins: origins), name(matched[second], origins: origins))
    }
  }

  /// An entry as the caller knows it.
  private func name(_ entry: TableEntry, origins: BatchOrigins) -> IOBusError.Entry {
    let registration = handles[entry.id]!.registration
    switch origins.origin(of: registration) {
    case registration?: return .registered(registration)
    case let origin?: return .moved(origin, to: registration.kind)
    case nil: return .new(registration.kind)
    }
  }

  /// KVM's ioeventfd collision rule, for two value matches at the same address.
  static func collide(_ one: TableEntry, _ other: TableEntry) -> Bool {
    if one.size == 0 || other.size == 0 { return true }
    guard one.size == other.size else { return false }
    return one.matchesAnyValue || other.matchesAnyValue || one.value == other.value
  }
}

/// The first broken rule of each kind found so far, by position in the table.
private struct Findings {
  /// Value matches come before ranges in table order.
  static let matchRank = 0
  static let rangeRank = 1
  /// The first entry outside the address space, by rank then index.
  var outside: (rank: Int, index: Int)?
  /// The lowest `i` such that ranges `i` and `i + 1` overlap.
  var overlap: Int?
  /// The first colliding pair of value matches, `(i, j)` with `i < j`.
  var collision: (Int, Int)?

  /// Notes what the range at `index` breaks: the address space, or an overlap with the
  /// range before or after it.
  mutating func note(range index: Int, in state: BusState) {
    let ranges = state.ranges
    if ranges[index].last > state.space.lastAddress { noteOutside(Self.rangeRank, index) }
    if index > 0, ranges[index - 1].last >= ranges[index].first { noteOverlap(index - 1) }
    if index + 1 < ranges.count, ranges[index].last >= ranges[index + 1].first {
      noteOverlap(index)
    }
  }

  /// Notes what the value match at `index` breaks: the address space, or a collision with
  /// another match at its address (the first such pair involving it).
  mutating func note(match index: Int, in state: BusState) {
    let matched = state.matched
    let entry = matched[index]
    if entry.size != 0, entry.first &+ UInt64(entry.size &- 1) > state.space.lastAddress {
      noteOutside(Self.matchRank, index)
    }
    var other = firstIndex(notBelow: entry.first, from: 0, count: matched.count) {
      matched[$0].first
    }
    while other < matched.count, matched[other].first == entry.first {
      if other != index, BusState.collide(entry, matched[other]) {
        noteCollision(min(index, other), max(index, other))
        // Later partners make later pairs; before `index`, the first found is the least.
        break
      }
      other += 1
    }
  }

  private mutating func noteOutside(_ rank: Int, _ index: Int) {
    if let known = outside, known <= (rank, index) { return }
    outside = (rank, index)
  }

  private mutating func noteOverlap(_ index: Int) {
    overlap = min(overlap ?? index, index)
  }

  private mutating func noteCollision(_ first: Int, _ second: Int) {
    if let known = collision, known <= (first, second) { return }
    collision = (first, second)
  }
}

extension RegistrationKind {
  /// The bytes it covers as (base, length, last byte): a value match's address and size
  /// (last byte: its address for size 0). Only for kinds that passed their own checks (no
  /// wrap past 2^64).
  var extent: (base: UInt64, length: UInt64, lastByte: UInt64) {
    switch self {
    case .range(let base, let length): (base, length, base + (length - 1))
    case .valueMatch(let address, let size, _):
      (address, UInt64(size), address + UInt64(max(size, 1) - 1))
    }
  }
}
