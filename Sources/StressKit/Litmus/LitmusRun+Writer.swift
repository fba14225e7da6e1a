import CLitmus
import Glibc
import HostSupport
import RCU

/// The writer's side of each test, between iterations: its stamp count and the slot it
/// last published.
struct LitmusWriterState {
  var count: UInt64 = 0
  var current = 0
}

extension LitmusRun {
  /// The writer thread: leads the handshake, picks each iteration's test (in turn, a slice
  /// each), steers the start skews, and runs its side.
  func write(_ slot: WaitSlot) {
    Flavor.registerOfflineThread()
    defer { Flavor.unregisterOfflineThread() }
    if let cpus { _ = litmus_pin_current_thread(cpus.writer) }
    let cells = self.cells
    let handshake = self.handshake
    let tests = configuration.tests
    var rng = SplitMix64(seed: configuration.seed ^ 0x5EED_0F11_7E57)
    var skews = cells.map { _ in LitmusSkew(spread: Int(loops(150)), limit: Int(loops(20_000))) }
    var states = cells.map { _ in LitmusWriterState() }
    var fastest: [UInt64] = []
    let slice = UInt64(configuration.sliceSeconds * 1e9)
    let limit = configuration.iterationsPerTest ?? .max
    var test = 0
    var sliceStart = monotonicNanoseconds()
    var previous: Int?
    var observation: UInt64 = 0
    var iteration: UInt64 = 0
    while true {
      iteration += 1
      var stopping = false
      if iteration & 15 == 0 {
        let now = monotonicNanoseconds()
        stopping =
          stop.isSet || violations.any || states.allSatisfy { $0.count >= limit }
        if now - sliceStart >= slice || stopping {
          tallies[test].addTime(now - sliceStart)
          test = nextTest(after: test)
          sliceStart = now
        }
      }
      let offsets = skews[test].draw(rng.next())
      handshake.put(
        .writer, .test, stopping ? LitmusHandshake.stopTest : UInt64(test), for: iteration)
      handshake.put(.writer, .offset, UInt64(offsets.reader), for: iteration)
      handshake.put(.writer, .observation, observation, for: iteration)
      handshake.arrive(.writer, iteration)
      if stopping { return }
      guard handshake.await(.reader, iteration, stop: stop, between: {}) else { return }
      if let previous {
        skews[previous].steer(readerCameFirst: handshake.get(.reader, .test, for: iteration) == 1)
      }
      litmus_delay(offsets.writer)
      observation = writerSide(tests[test], cells[test], &states[test], slot, &rng)
      if [.deferredFree, .nestedSections, .storeBuffering].contains(tests[test]) {
        noteGracePeriod(slot.lastWaitNanoseconds, &fastest)
      }
      previous = test
    }
  }

  /// Keeps the reader's delay bound at three of the fastest of the last 64 grace periods.
  private func noteGracePeriod(_ nanoseconds: UInt64, _ recent: inout [UInt64]) {
    recent.append(nanoseconds)
    guard recent.count == 64 else { return }
    let bound = max(3 * loops(recent.min()!), Self.shortestReaderDelay)
    readerDelayLimit.store(min(bound, loops(200_000)), ordering: .relaxed)
    recent.removeAll(keepingCapacity: true)
  }

  /// The writer's side of one iteration of `test`; returns what it observed.
  @inline(__always)
  private func writerSide(
    _ test: LitmusTestName, _ cells: LitmusCells, _ state: inout LitmusWriterState,
    _ slot: WaitSlot, _ rng: inout SplitMix64
  ) -> UInt64 {
    let words = cells.words
    state.count += 1
    switch test {
    case .deferredFree, .nestedSections:
      // Publish a fresh slot, wait for a grace period, poison the old one.
      let old = state.current
      let new = old ^ 1
      words.storeRelaxed(cells.slotIndex(new), state.count)
      // Releasing: pairs with the reader's acquiring load of `published`.
      words.storeReleasing(cells.published, UInt64(new))
      slot.waiting(for: .synchronize) { Flavor.synchronize() }
      words.storeRelaxed(cells.slotIndex(old), LitmusCells.poison)
      state.current = new
      return 0
    case .storeBuffering:
      words.storeRelaxed(cells.y, state.count)
      slot.waiting(for: .synchronize) { Flavor.synchronize() }
      return words.loadRelaxed(cells.x) == state.count ? 1 : 0
    case .messagePassing:
      publishMessage(cells, stamp: state.count, &rng)
      if state.count % UInt64(Self.messageSlots / 2) == 0 {
        // The slots published before this grace period may be written again after it.
        slot.waiting(for: .synchronize) { Flavor.synchronize() }
      }
      return state.count
    case .callback:
      return publishWithCallback(cells, &state, slot)
    }
  }

  /// Message passing: initialize the slot, then publish it; under `publish-before-init`,
  /// once in N, the other way round, with a short delay between.
  @inline(__always)
  private func publishMessage(_ cells: LitmusCells, stamp: UInt64, _ rng: inout SplitMix64) {
    let words = cells.words
    let slot = cells.slotIndex(Int(stamp % UInt64(Self.messageSlots)))
    let every = UInt64(configuration.faultEvery)
    guard configuration.fault == .publishBeforeInit, stamp % every == 0 else {
      words.storeRelaxed(slot, stamp)
      // Releasing: pairs with the reader's acquiring load of `published`.
      words.storeReleasing(cells.published, stamp)
      return
    }
    // Releasing, as above (the fault is the order, not the ordering).
    words.storeReleasing(cells.published, stamp)
    litmus_delay(UInt32(rng.next() % max(loops(300), 1)))
    words.storeRelaxed(slot, stamp)
    writerFaults.add(1, ordering: .relaxed)
  }

  /// Callback: take the next slot once its callback has poisoned it, publish it, and hand
  /// the old one to a deferred callback that poisons it and makes it reusable.
  @inline(__always)
  private func publishWithCallback(
    _ cells: LitmusCells, _ state: inout LitmusWriterState, _ slot: WaitSlot
  ) -> UInt64 {
    let words = cells.words
    let new = Int(state.count % UInt64(Self.callbackSlots))
    let reusable = cells.reusableIndex(new)
    // Acquiring: pairs with the callback's releasing store, so its poison is behind us.
    if words.loadAcquiring(reusable) == 0 {
      slot.waiting(for: .deferredCallback) {
        var spins = 0
        // Acquiring, as above.
        while words.loadAcquiring(reusable) == 0 && spins < 10_000 && !stop.isSet {
          spins += 1
          sched_yield()
        }
      }
      // Acquiring, as above.
      if words.loadAcquiring(reusable) == 0 && !stop.isSet {
        slot.waiting(for: .barrier) { Flavor.barrier() }
        // Acquiring, as above.
        if words.loadAcquiring(reusable) == 0 {
          violations.record(
            .callbackLost,
            "litmus callback: the callback that poisons slot \(new) had not run after barrier()")
        }
      }
    }
    words.storeRelaxed(reusable, 0)
    words.storeRelaxed(cells.slotIndex(new), state.count)
    // Releasing: pairs with the reader's acquiring load of `published`.
    words.storeReleasing(cells.published, UInt64(new))
    let old = state.current
    state.current = new
    Flavor.deferUntilGracePeriod {
      words.storeRelaxed(cells.slotIndex(old), LitmusCells.poison)
      // Releasing: pairs with the writer's acquiring load of `reusable`.
      words.storeReleasing(cells.reusableIndex(old), 1)
    }
    return state.count
  }
}
