import BusModel
import ConcurrentBus
import Testing

@testable import StressKit

/// The ring faults the engine injects between a ring and its checker, on a hand-made
/// stream: each alters the stream as its catalogue entry says, and the checker's detector
/// for it fires (the sequence check for a drop, a duplicate or a reorder; only the value
/// comparison for a drop whose gap is renumbered away).
@Suite("Ring fault filter")
struct RingFaultFilterTests {
  static let producer = RingProducer(slot: 7)

  /// Ten writes of one producer, values 100...109, and a loss of two after them.
  static var stream: [RingEntry] {
    (0..<10).map { sequence in
      .write(
        RingWrite(
          producer: producer, sequence: UInt64(sequence), offset: 0, size: 8,
          value: 100 + UInt64(sequence)))
    } + [.lost(RingLoss(producer: producer, sequences: 10..<12))]
  }

  /// The stream through `fault` hitting every `every`-th write, and the log of it.
  static func filtered(_ fault: ChurnFault, every: Int) -> (
    entries: [RingEntry], log: RingDeliveryLog
  ) {
    var filter = RingFaultFilter(RingFaultInjector(fault: fault, every: every))
    var output: [RingEntry] = []
    for entry in stream { filter.pass(entry, to: &output) }
    filter.finish(to: &output)
    var log = RingDeliveryLog()
    log.record(output)
    return (output, log)
  }

  static let claimed = (0..<12).map { 100 + UInt64($0) }

  @Test("no fault: the stream passes unchanged and checks clean")
  func noFault() {
    let (entries, log) = Self.filtered(.none, every: 1)
    #expect(entries == Self.stream)
    #expect(log.violations.isEmpty)
    #expect(log.mismatches(of: Self.producer, claimed: Self.claimed).isEmpty)
  }

  @Test("a dropped value is a gap in the sequence")
  func drop() {
    let (entries, log) = Self.filtered(.ringDrop, every: 4)
    #expect(entries.count == Self.stream.count - 2)
    #expect(log.violations.count == 2, "\(log.violations)")
    #expect(log.violations.allSatisfy { $0.hasSuffix("dropped") })
  }

  @Test("a duplicated value repeats a sequence number")
  func duplicate() {
    let (entries, log) = Self.filtered(.ringDuplicate, every: 5)
    #expect(entries.count == Self.stream.count + 2)
    #expect(log.violations.count == 2)
    #expect(log.violations.allSatisfy { $0.contains("duplicated or reordered") })
  }

  @Test("a reordered value steps the sequence back")
  func reorder() {
    let (entries, log) = Self.filtered(.ringReorder, every: 3)
    #expect(entries.count == Self.stream.count)
    #expect(Set(entries) == Set(Self.stream))
    #expect(log.violations.contains { $0.contains("duplicated or reordered") })
  }

  @Test("a silently dropped value keeps the sequence intact, and only the values tell")
  func silentDrop() {
    let (entries, log) = Self.filtered(.ringSilentDrop, every: 4)
    #expect(entries.count == Self.stream.count - 2)
    #expect(log.violations.isEmpty, "the sequence numbers were renumbered")
    #expect(log.lost == 2, "the loss after them moved with them")
    #expect(!log.mismatches(of: Self.producer, claimed: Self.claimed).isEmpty)
  }

  @Test("the other faults leave ring streams alone")
  func otherFaults() {
    for fault in [ChurnFault.skipGracePeriod, .dropEntry, .earlyClose, .ringEarlyReturn] {
      #expect(Self.filtered(fault, every: 1).entries == Self.stream, "\(fault)")
    }
  }
}
