import ConcurrentBus
import Synchronization

/// The ring faults, made by the engine between a ring and its checker: what the consumer
/// drained is altered before the checker sees it, as a ring (or a consumer) with that bug
/// would deliver it. The ring itself carries no fault switch.
///
/// Every `every`-th write entry drained (counted over all rings of the run) is hit:
/// - `ring-drop`: it is left out;
/// - `ring-duplicate`: it is delivered twice;
/// - `ring-reorder`: it is held back and delivered after its producer's next entry;
/// - `ring-silent-drop`: it is left out and its producer's later entries of this ring are
///   renumbered to close the gap, as a producer that claimed a write and never recorded it
///   would leave them: the sequence numbers look intact, only the values can tell.
final class RingFaultInjector: Sendable {
  let fault: ChurnFault
  private let every: Int
  private let seen = Atomic<Int>(0)
  private let hits = Atomic<UInt64>(0)

  /// Injects `fault` (no-op unless a ring-entry fault) into one write entry in `every`.
  init(fault: ChurnFault, every: Int) {
    self.fault = fault
    self.every = max(every, 1)
  }

  /// Whether the fault alters entries at all.
  var isActive: Bool {
    [.ringDrop, .ringDuplicate, .ringReorder, .ringSilentDrop].contains(fault)
  }

  /// Entries the fault altered so far.
  var altered: UInt64 { hits.load(ordering: .relaxed) }

  /// Whether the next write entry is hit.
  fileprivate func nextIsHit() -> Bool {
    let hit = seen.add(1, ordering: .relaxed).newValue % every == 0
    if hit { hits.add(1, ordering: .relaxed) }
    return hit
  }
}

/// One ring's stream through the ``RingFaultInjector``: the state a fault keeps between
/// entries (an entry held back, renumbering offsets). Used by the ring's one consumer.
struct RingFaultFilter: Sendable {
  private let injector: RingFaultInjector
  private var held: RingWrite?
  private var renumbering: [RingProducer: UInt64] = [:]

  init(_ injector: RingFaultInjector) {
    self.injector = injector
  }

  /// Passes `entry` on to `output`, altered as the fault says.
  mutating func pass(_ entry: RingEntry, to output: inout [RingEntry]) {
    guard injector.isActive else {
      output.append(entry)
      return
    }
    switch entry {
    case .lost(let loss):
      let shift = renumbering[loss.producer, default: 0]
      output.append(
        .lost(
          RingLoss(
            producer: loss.producer,
            sequences: (loss.sequences.lowerBound - shift)..<(loss.sequences.upperBound - shift))))
    case .write(let write):
      pass(write, to: &output)
    }
  }

  private mutating func pass(_ write: RingWrite, to output: inout [RingEntry]) {
    if let waiting = held, waiting.producer == write.producer {
      output.append(.write(write))
      output.append(.write(waiting))
      held = nil
      return
    }
    guard injector.nextIsHit() else {
      output.append(.write(renumbered(write)))
      return
    }
    switch injector.fault {
    case .ringDrop:
      break
    case .ringDuplicate:
      output.append(.write(write))
      output.append(.write(write))
    case .ringReorder where held == nil:
      held = write
    case .ringSilentDrop:
      renumbering[write.producer, default: 0] += 1
    default:
      output.append(.write(write))
    }
  }

  /// Delivers what is still held back, once the ring is finished.
  mutating func finish(to output: inout [RingEntry]) {
    if let waiting = held { output.append(.write(waiting)) }
    held = nil
  }

  private func renumbered(_ write: RingWrite) -> RingWrite {
    guard let shift = renumbering[write.producer] else { return write }
    return RingWrite(
      producer: write.producer, sequence: write.sequence - shift, offset: write.offset,
      size: write.size, value: write.value)
  }
}
