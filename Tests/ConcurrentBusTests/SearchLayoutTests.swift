import ConcurrentBus
import Testing

@testable import ConcurrentBusCore

/// The readers' search (``EytzingerKeys``) against a linear scan: on random sorted keys of
/// every small size and several large ones, and on random buses of up to 10,000 entries,
/// every address finds what a scan finds.
@Suite("the readers' search layout")
struct SearchLayoutTests {
  /// Sorted keys with duplicates, the largest key and runs of equal keys all common.
  static func randomKeys(_ count: Int, _ rng: inout SeededGenerator) -> [UInt64] {
    let span = UInt64(max(count, 1)) * UInt64.random(in: 1...3, using: &rng)
    return (0..<count).map { _ in
      Int.random(in: 0..<16, using: &rng) == 0 ? .max : .random(in: 0..<span, using: &rng)
    }.sorted()
  }

  /// Every key, its neighbours, 0, the largest bound and a few at random.
  static func bounds(_ keys: [UInt64], _ rng: inout SeededGenerator) -> [UInt64] {
    keys.flatMap { [$0 &- 1, $0, $0 &+ 1] } + [0, 1, .max, .max - 1]
      + (0..<8).map { _ in .random(in: 0...UInt64(keys.count * 4 + 8), using: &rng) }
  }

  @Test("every bound finds the first key not below it, as a linear scan does")
  func matchesLinearScan() {
    var rng = SeededGenerator(seed: 0x5EA8C4)
    for count in Array(0...300) + [511, 512, 513, 1023, 1024, 4097, 10_000] {
      let keys = Self.randomKeys(count, &rng)
      let slots = EytzingerKeys.slots(forCount: count)
      let nodes = UnsafeMutablePointer<UInt64>.allocate(capacity: slots)
      defer { nodes.deallocate() }
      let tree = EytzingerKeys(nodes: nodes, count: count) { keys[$0] }
      #expect((1 << tree.depth) - 1 >= count && (1 << tree.depth) / 2 <= count)
      // Every bound up to 3000 of them (at random beyond that, so the scans stay quick).
      let bounds = Self.bounds(keys, &rng)
      for bound in bounds.count <= 3000 ? bounds : Array(bounds.shuffled(using: &rng).prefix(3000))
      {
        let scanned = keys.firstIndex { $0 >= bound } ?? count
        let found = tree.firstIndex(notBelow: bound)
        #expect(found == scanned, "\(count) keys, bound \(bound)")
        if found != scanned { return }
      }
    }
  }

  @Test(
    "on random buses of up to 10,000 entries every address dispatches as a scan says",
    arguments: [1, 2, 3, 17, 64, 1000, 10_000])
  func busMatchesLinearScan(entries: Int) throws {
    var rng = SeededGenerator(seed: UInt64(entries) &* 0x9E37)
    let bus = IOBus()
    // Ranges of random lengths with random gaps (never overlapping), and about a third as
    // many value-matched entries, some at a range's address, some sharing an address.
    var ranges: [(base: UInt64, last: UInt64, id: RegistrationID)] = []
    var next: UInt64 = .random(in: 0..<64, using: &rng)
    var matched: [(address: UInt64, value: UInt64, id: RegistrationID)] = []
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for index in 0..<entries {
        let length = UInt64.random(in: 1...32, using: &rng)
        let registration = try tx.register(
          RecordingDevice("range \(index)"), base: next, length: length)
        ranges.append((next, next + length - 1, registration.id))
        next += length + .random(in: 0...8, using: &rng)
      }
      for index in 0..<max(1, entries / 3) {
        let address =
          matched.isEmpty || Bool.random(using: &rng)
          ? .random(in: 0...next, using: &rng) : matched.randomElement(using: &rng)!.address
        let value = UInt64(index) &+ 1
        guard !matched.contains(where: { $0.address == address && $0.value == value }) else {
          continue
        }
        let registration = try tx.register(
          RecordingDevice("matched"), address: address, size: 4, match: .value(value))
        matched.append((address, value, registration.id))
      }
    }
    // Each edge of up to 1000 ranges (at random beyond that, so the scans stay quick).
    let probed = ranges.count <= 1000 ? ranges : Array(ranges.shuffled(using: &rng).prefix(1000))
    let addresses =
      probed.flatMap { [$0.base &- 1, $0.base, $0.last, $0.last &+ 1] }
      + matched.prefix(1000).map(\.address) + [0, next, next + 1, .max]
    for address in addresses {
      // A 1-byte write: no value-matched entry (all of 4 bytes) takes it, so a range does.
      let range = ranges.first { $0.base <= address && address <= $0.last }
      #expect(
        bus.write(address: address, size: 1, value: 0)
          == (range.map { .claimed($0.id) } ?? .unclaimed),
        "1-byte write at 0x\(String(address, radix: 16))")
      for candidate in matched where candidate.address == address {
        #expect(
          bus.write(address: address, size: 4, value: candidate.value) == .claimed(candidate.id),
          "write of \(candidate.value) at 0x\(String(address, radix: 16))")
      }
    }
  }
}
