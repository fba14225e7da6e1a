import ConcurrentBus

/// What a consumer received from a ring, checked entry by entry: each producer's sequence
/// numbers must run 0, 1, 2, ... with no gap (a dropped entry), repeat (a duplicate) or
/// step back (a reordering). How a checker reads a ring: the ring tests and `stress churn`
/// (StressKit's ring checker) both use it.
///
/// Each sequence number keeps the value delivered for it (nil inside a reported loss), so
/// that ``mismatches(of:claimed:)`` can compare a producer's stream with the values its
/// writes the ring claimed, in order.
public struct RingDeliveryLog: Sendable {
  /// Per producer, what each sequence number delivered: the value, or nil for a loss.
  public private(set) var delivered: [RingProducer: [UInt64?]] = [:]
  /// Every write entry, as delivered.
  public private(set) var writes: [RingWrite] = []
  /// Writes reported lost (inside ``RingLoss`` entries).
  public private(set) var lost: UInt64 = 0
  /// Every out-of-sequence entry, described.
  public private(set) var violations: [String] = []

  /// An empty log.
  public init() {}

  /// Checks `entry` against its producer's expected sequence number and records it.
  ///
  /// - Returns: The violation it is, if it is out of sequence (also kept in
  ///   ``violations``).
  @discardableResult
  public mutating func record(_ entry: RingEntry) -> String? {
    let producer = entry.producer
    let sequences = entry.sequences
    // In place through the default subscript: the producer's array is never copied, so an
    // entry costs O(1) however long its stream grows.
    let violation = Self.record(
      entry, sequences: sequences, into: &delivered[producer, default: []], writes: &writes,
      lost: &lost)
    if let violation { violations.append(violation) }
    return violation
  }

  /// Checks `entry` against `values` (its producer's deliveries so far) and appends it.
  private static func record(
    _ entry: RingEntry, sequences: Range<UInt64>, into values: inout [UInt64?],
    writes: inout [RingWrite], lost: inout UInt64
  ) -> String? {
    let producer = entry.producer
    let expected = UInt64(values.count)
    var violation: String?
    if sequences.lowerBound > expected {
      violation = "\(producer): sequence \(sequences.lowerBound), expected \(expected): dropped"
    } else if sequences.lowerBound < expected {
      violation =
        "\(producer): sequence \(sequences.lowerBound) again after \(expected - 1): "
        + "duplicated or reordered"
    }
    // Keep the slot aligned with the sequence number so later checks compare like with like.
    while UInt64(values.count) < sequences.lowerBound { values.append(nil) }
    switch entry {
    case .write(let write):
      writes.append(write)
      if UInt64(values.count) == write.sequence { values.append(write.value) }
    case .lost(let loss):
      lost += loss.count
      while UInt64(values.count) < loss.sequences.upperBound { values.append(nil) }
    }
    return violation
  }

  /// Records every entry of `entries`, in order.
  public mutating func record(_ entries: [RingEntry]) {
    for entry in entries { record(entry) }
  }

  /// Checks that `producer` delivered exactly `claimed` (the values its writes the ring
  /// claimed, in order), each either with its value or inside a reported loss. Returns at
  /// most a handful of problems, described; none when the two match.
  public func mismatches(of producer: RingProducer, claimed: [UInt64]) -> [String] {
    let values = delivered[producer] ?? []
    var problems: [String] = []
    if values.count != claimed.count {
      problems.append("\(producer): \(values.count) delivered, \(claimed.count) claimed")
    }
    for (index, (got, wrote)) in zip(values, claimed).enumerated() where got != nil && got != wrote
    {
      problems.append("\(producer) #\(index): delivered \(got!), wrote \(wrote)")
      if problems.count > 5 { break }
    }
    return problems
  }
}
