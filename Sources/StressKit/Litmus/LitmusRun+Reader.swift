import CLitmus
import HostSupport
import RCU

/// What the reader saw in one iteration: the slot (or stamp) it loaded and the value it
/// read there (store buffering: its r0 in `value`).
struct LitmusObservation {
  var loaded: UInt64 = 0
  var value: UInt64 = 0
}

extension LitmusRun {
  /// The reader thread: follows the handshake, runs its side of each iteration, and judges
  /// the previous iteration once the writer's observation of it has arrived.
  func read() {
    Flavor.registerCurrentThread()
    defer { Flavor.unregisterCurrentThread() }
    if let cpus { _ = litmus_pin_current_thread(cpus.reader) }
    let cells = self.cells
    let handshake = self.handshake
    let tests = configuration.tests
    var rng = SplitMix64(seed: configuration.seed &+ 0x0B5E_7FED)
    var counts = [UInt64](repeating: 0, count: cells.count)
    var pending: (test: Int, seen: LitmusObservation)?
    var cameFirst = false
    var iteration: UInt64 = 0
    while true {
      iteration += 1
      handshake.put(.reader, .test, cameFirst ? 1 : 0, for: iteration)
      handshake.arrive(.reader, iteration)
      // QSBR: a grace period the writer waits for needs a quiescent state from a reader
      // that only spins; every other flavor compiles it away.
      guard handshake.await(.writer, iteration, stop: stop, between: { Flavor.quiescentState() })
      else { return }
      let test = handshake.get(.writer, .test, for: iteration)
      if let pending {
        judge(
          pending.test, count: counts[pending.test], pending.seen,
          writer: handshake.get(.writer, .observation, for: iteration))
      }
      if test == LitmusHandshake.stopTest { return }
      let index = Int(test)
      let delay = UInt32(rng.next() % readerDelayLimit.load(ordering: .relaxed))
      let now = coarseNanoseconds()
      counts[index] += 1
      litmus_delay(UInt32(handshake.get(.writer, .offset, for: iteration)))
      // A store to the reader's handshake line, which the writer polls, just before the
      // section: it waits in the store buffer for that line while the section begins, so
      // the section's own first store queues behind it, as the stores of a thread that was
      // busy a moment ago do. This is what opens the store-buffering window on entry;
      // without it the window is a single store's flight, hit once in a million.
      handshake.readerStarted = now
      let seen = readerSide(tests[index], cells[index], stamp: counts[index], delay: delay)
      Flavor.quiescentState()
      cameFirst = Self.readerCameFirst(tests[index], stamp: counts[index], seen)
      pending = (index, seen)
    }
  }

  /// The reader's side of one iteration of `test`, whose writer publishes stamp `stamp` in
  /// it; `delay` is how long it waits inside the section, where the grace period must wait.
  @inline(__always)
  private func readerSide(
    _ test: LitmusTestName, _ cells: LitmusCells, stamp: UInt64, delay: UInt32
  ) -> LitmusObservation {
    let words = cells.words
    var seen = LitmusObservation()
    switch test {
    case .deferredFree, .callback:
      Flavor.readLock()
      // Acquiring: pairs with the writer's releasing store of `published`.
      seen.loaded = words.loadAcquiring(cells.published)
      litmus_delay(delay)
      seen.value = words.loadRelaxed(cells.slotIndex(Int(seen.loaded)))
      Flavor.readUnlock()
    case .nestedSections:
      Flavor.readLock()
      Flavor.readLock()
      // Acquiring, as above.
      seen.loaded = words.loadAcquiring(cells.published)
      Flavor.readUnlock()
      litmus_delay(delay)
      seen.value = words.loadRelaxed(cells.slotIndex(Int(seen.loaded)))
      Flavor.readUnlock()
    case .storeBuffering:
      Flavor.readLock()
      words.storeRelaxed(cells.x, stamp)
      seen.value = words.loadRelaxed(cells.y) == stamp ? 1 : 0
      Flavor.readUnlock()
    case .messagePassing:
      Flavor.readLock()
      // Acquiring, as above: the slot's field is read after the stamp that names it.
      seen.loaded = words.loadAcquiring(cells.published)
      seen.value = words.loadRelaxed(
        cells.slotIndex(Int(seen.loaded % UInt64(Self.messageSlots))))
      Flavor.readUnlock()
    }
    return seen
  }

  /// Whether the reader's load came before the writer's store in this iteration.
  @inline(__always)
  private static func readerCameFirst(
    _ test: LitmusTestName, stamp: UInt64, _ seen: LitmusObservation
  ) -> Bool {
    switch test {
    case .deferredFree, .nestedSections, .callback: seen.value != stamp
    case .storeBuffering: seen.value == 0
    case .messagePassing: seen.loaded != stamp
    }
  }

  /// Counts the outcome of an iteration of test number `index` and reports a forbidden one.
  private func judge(
    _ index: Int, count stamp: UInt64, _ seen: LitmusObservation, writer: UInt64
  ) {
    let test = configuration.tests[index]
    let outcome: Int
    switch test {
    case .deferredFree, .nestedSections, .callback:
      outcome = seen.value == LitmusCells.poison ? 2 : seen.value == stamp ? 1 : 0
    case .messagePassing:
      outcome = seen.loaded == stamp ? (seen.value == stamp ? 1 : 2) : 0
    case .storeBuffering:
      outcome = seen.value == 1 ? (writer == 1 ? 0 : 1) : (writer == 1 ? 2 : 3)
    }
    tallies[index].count(
      outcome: outcome, readerCameFirst: Self.readerCameFirst(test, stamp: stamp, seen))
    if outcome == test.outcomes.count - 1 { reportForbidden(test, stamp: stamp, seen) }
  }

  private func reportForbidden(_ test: LitmusTestName, stamp: UInt64, _ seen: LitmusObservation) {
    let what: String
    switch test {
    case .deferredFree, .nestedSections, .callback:
      what =
        "the reader loaded slot \(seen.loaded) inside its section and read it poisoned "
        + (test == .callback
          ? "by a deferred callback queued after the load" : "after the writer's synchronize()")
        + (test == .nestedSections ? " (after an inner unlock, still in the outer section)" : "")
    case .messagePassing:
      what =
        "the reader saw stamp \(seen.loaded) published and its slot holding \(seen.value)"
    case .storeBuffering:
      what =
        "r0=0 r1=0: the reader's load of y and the writer's load of x (after synchronize()) "
        + "both missed the other's store"
    }
    violations.record(test.violation, "litmus \(test.rawValue), iteration \(stamp): \(what)")
  }
}
