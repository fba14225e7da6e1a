import ConcurrentBus
import Synchronization

/// A sequenced write delivered wrong, as ``SequenceCheck`` saw it.
public struct SequenceViolation: Sendable, Hashable, CustomStringConvertible {
  /// What went wrong.
  public enum Kind: String, Sendable, Hashable {
    /// The value came before its turn: the ones between were lost, or arrive late.
    case skipped
    /// The value came after a later one of its writer: delivered twice, or out of order.
    case repeated
    /// No sequenced write carries this value (size, unused bits, or unknown writer).
    case malformed
    /// At the end, the writer's delivered count differs from what the guest executed.
    case countMismatch
  }

  /// What went wrong.
  public var kind: Kind
  /// The writer, when the value named one this check knows.
  public var writer: UInt8?
  /// The sequence number due (for `countMismatch`: the count executed).
  public var expected: UInt64
  /// The sequence number delivered (for `countMismatch`: the count delivered; for
  /// `malformed`: the raw value).
  public var received: UInt64

  /// A violation of `kind`.
  public init(kind: Kind, writer: UInt8?, expected: UInt64, received: UInt64) {
    self.kind = kind
    self.writer = writer
    self.expected = expected
    self.received = received
  }

  /// For example `skipped: writer 1 expected #41, got #43`.
  public var description: String {
    let who = writer.map { "writer \($0)" } ?? "no writer"
    switch kind {
    case .countMismatch: return "\(kind): \(who) executed \(expected), delivered \(received)"
    case .malformed: return "\(kind): \(who) value 0x\(String(received, radix: 16))"
    case .skipped, .repeated: return "\(kind): \(who) expected #\(expected), got #\(received)"
    }
  }
}

/// Checks that every sequenced guest write (``SequencedValue``) is delivered exactly once
/// and in its writer's order, wherever it is delivered: a device, the unclaimed path, a
/// drain of the coalesced ring on any thread.
///
/// Call ``record(_:size:)`` at every point a sequenced write can arrive, then
/// ``finish(executed:)`` once the guest has halted. One writer's values must reach it one
/// at a time, which is what the run loop and ``CoalescedRing`` promise (a vCPU's exits on
/// its own thread, its buffered writes under the drain lock, each after the ones before).
/// Writers are independent and may be recorded concurrently.
///
/// Sendable: per-writer state is atomic; violations are kept under a mutex.
public final class SequenceCheck: Sendable {
  /// Examples kept per check; ``violationCount`` counts every one.
  public static let keptViolations = 64

  private final class Writer: Sendable {
    let next: Atomic<UInt32>
    let delivered = Atomic<Int>(0)
    init(next: UInt32) { self.next = Atomic(next) }
  }

  private let writers: [Writer]
  private let found = Mutex<(examples: [SequenceViolation], count: Int)>(([], 0))

  /// Expects writers `0..<writers`, each starting at `startingAt[writer]` (0 when absent):
  /// a program's counter before the run, from `GuestRun.sequenceCounter(vcpu:)`.
  public init(writers: Int, startingAt: [UInt32] = []) {
    self.writers = (0..<writers).map {
      Writer(next: ($0 < startingAt.count ? startingAt[$0] : 0) & SequencedValue.sequenceMask)
    }
  }

  /// Records one delivered write of `size` bytes; true when it was the one due.
  @discardableResult
  public func record(_ value: UInt64, size: Int) -> Bool {
    guard let decoded = SequencedValue(decoding: value, size: size),
      Int(decoded.writer) < writers.count
    else {
      report(SequenceViolation(kind: .malformed, writer: nil, expected: 0, received: value))
      return false
    }
    let writer = writers[Int(decoded.writer)]
    writer.delivered.add(1, ordering: .relaxed)
    // Relaxed: one writer's deliveries are ordered by the run loop and the ring's drain
    // lock (the property under test); the exchange still gives each a distinct answer.
    let due = writer.next.exchange(
      (decoded.sequence &+ 1) & SequencedValue.sequenceMask, ordering: .relaxed)
    guard decoded.sequence != due else { return true }
    let ahead = (decoded.sequence &- due) & SequencedValue.sequenceMask
    report(
      SequenceViolation(
        kind: ahead < SequencedValue.sequenceModulus / 2 ? .skipped : .repeated,
        writer: decoded.writer, expected: UInt64(due), received: UInt64(decoded.sequence)))
    return false
  }

  /// Writes delivered so far by `writer`.
  public func delivered(writer: Int) -> Int { writers[writer].delivered.load(ordering: .relaxed) }

  /// Checks the tail: each writer delivered exactly `executed[writer]` writes (nothing lost
  /// after its last delivery). Returns every violation found, at most ``keptViolations``.
  public func finish(executed: [Int]) -> [SequenceViolation] {
    for (index, writer) in writers.enumerated() {
      let expected = index < executed.count ? executed[index] : 0
      let delivered = writer.delivered.load(ordering: .relaxed)
      if delivered != expected {
        report(
          SequenceViolation(
            kind: .countMismatch, writer: UInt8(index), expected: UInt64(expected),
            received: UInt64(delivered)))
      }
    }
    return violations
  }

  /// The first ``keptViolations`` violations.
  public var violations: [SequenceViolation] {
    found.withAnnotatedLock(owner: self) { $0.examples }
  }

  /// Every violation found so far.
  public var violationCount: Int { found.withAnnotatedLock(owner: self) { $0.count } }

  private func report(_ violation: SequenceViolation) {
    found.withAnnotatedLock(owner: self) { found in
      found.count += 1
      if found.examples.count < Self.keptViolations { found.examples.append(violation) }
    }
  }
}
