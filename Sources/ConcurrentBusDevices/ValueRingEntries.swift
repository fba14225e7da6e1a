extension ValueRing {
  /// The ring's entries as an async sequence, which ends once the ring is sealed and
  /// drained (or when the consuming task is cancelled).
  ///
  /// Draining happens on the consuming task; between drains it waits for ``eventFD``
  /// through ``EventFD/signals()``, whose thread must be the eventfd's only reader while the
  /// sequence exists: give the ring an eventfd of its own.
  ///
  /// - Throws: ``EventFDError`` when the signal sequence cannot start its thread.
  public func entries() throws(EventFDError) -> ValueRingEntries {
    ValueRingEntries(ring: self, signals: try eventFD.signals())
  }
}

/// A ``ValueRing``'s entries, each producer's in its order, ending after the ring is sealed
/// and drained.
///
/// Single-consumer: iterate it from one task, and do not drain the ring elsewhere meanwhile.
public struct ValueRingEntries: AsyncSequence, Sendable {
  /// A captured write or a loss.
  public typealias Element = RingEntry
  /// Iteration never throws; it ends instead.
  public typealias Failure = Never

  private let ring: ValueRing
  private let signals: EventFDSignals

  init(ring: ValueRing, signals: EventFDSignals) {
    self.ring = ring
    self.signals = signals
  }

  /// Returns the iterator; call it once, from the consuming task.
  public func makeAsyncIterator() -> Iterator {
    Iterator(ring: ring, signals: signals.makeAsyncIterator())
  }

  /// Iterates a ``ValueRingEntries``.
  public struct Iterator: AsyncIteratorProtocol {
    private let ring: ValueRing
    private var signals: EventFDSignals.Iterator
    private var batch: [RingEntry] = []
    private var position = 0
    private var state = ValueRing.DrainState.open

    fileprivate init(ring: ValueRing, signals: EventFDSignals.Iterator) {
      self.ring = ring
      self.signals = signals
    }

    /// The next entry; nil once the ring is sealed and drained, or the task is cancelled.
    public mutating func next() async -> RingEntry? {
      await next(isolation: nil)
    }

    /// The next entry; nil once the ring is sealed and drained, or the task is cancelled.
    public mutating func next(isolation actor: isolated (any Actor)?) async -> RingEntry? {
      while true {
        if position < batch.count {
          defer { position += 1 }
          return batch[position]
        }
        if state == .finished { return nil }
        batch.removeAll(keepingCapacity: true)
        position = 0
        // The signal thread reads the eventfd before it yields, and this drain comes after:
        // a record made after the drain signals again, so none is left waiting.
        state = ring.drain(into: &batch)
        if !batch.isEmpty || state == .finished { continue }
        guard await signals.next(isolation: actor) != nil else { return nil }
      }
    }
  }
}
