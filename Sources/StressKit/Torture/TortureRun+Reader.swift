import HostSupport
import RCU

/// What a reader saw in one read-side section.
struct SectionObservation {
  /// ``GracePeriodTickets/startedCount`` just after entering.
  var startedAtEntry: UInt64 = 0
  /// ``GracePeriodTickets/completed`` just before leaving.
  var completedAtExit: UInt64 = 0
  /// ``CallbackTickets/queued`` just after entering.
  var queuedAtEntry: UInt64 = 0
  /// ``CallbackTickets/highestRun`` just before leaving.
  var ranAtExit: UInt64 = 0
  /// The highest pipeline age seen on an element held in the section.
  var age = 0
  /// A marker that was not the initialized value, if one was seen.
  var badMarker: UInt64?
  /// A snapshot whose fields were not a snapshot's (freed and reused under the reader).
  var freedSnapshot = false
}

extension TortureRun {
  /// A reader thread: read-side sections of varied shape until told to stop.
  func read(reader: Int) {
    Flavor.registerCurrentThread()
    defer { Flavor.unregisterCurrentThread() }
    var rng = SplitMix64(seed: configuration.seed &+ UInt64(reader + 1) &* 0x9E37_79B9_7F4A_7C15)
    var ages = [UInt64](repeating: 0, count: Self.pipelineLength + 1)
    while !stop.isSet {
      let plan = ReadPlan.random(&rng, longest: longDelays.nanoseconds, span: longDelays.span)
      let seen = section(plan, reader: reader)
      check(seen, reader: reader)
      ages[min(seen.age, Self.pipelineLength)] += 1
      counters.add(.reads)
      if plan.nested != nil { counters.add(.nestedReads) }
      if plan.first.isLong || plan.nested?.isLong == true || plan.afterNested.isLong {
        counters.add(.longSections)
      }
      // QSBR needs it between sections; every other flavor compiles it away.
      Flavor.quiescentState()
    }
    agesSeen.withAnnotatedLock(owner: self) { total in
      for age in total.indices { total[age] += ages[age] }
    }
  }

  /// One read-side section following `plan`. Every load of the torture's counters and of
  /// the element happens between the flavor's lock and unlock.
  @inline(never)
  private func section(_ plan: ReadPlan, reader: Int) -> SectionObservation {
    var seen = SectionObservation()
    Flavor.readLock()
    census.enter(reader)
    seen.startedAtEntry = gracePeriods.startedCount
    seen.queuedAtEntry = callbacks.queued
    let held = look(&seen)
    plan.first.perform()
    if let nested = plan.nested {
      Flavor.readLock()
      _ = look(&seen)
      nested.perform()
      Flavor.readUnlock()
      plan.afterNested.perform()
    }
    if let held { pool.with(held) { seen.age = max(seen.age, $0.age.load(ordering: .relaxed)) } }
    seen.completedAtExit = gracePeriods.completed
    seen.ranAtExit = callbacks.highestRun
    Flavor.readUnlock()
    // After the unlock: a reader that never gets out of it still counts as inside.
    census.leave(reader)
    return seen
  }

  /// Reads the current snapshot and the element it names: the publish-ordering check's
  /// marker and the pipeline check's age. Returns the element's index.
  ///
  /// Publish ordering: the writer sets the marker before it publishes (an exchange with a
  /// full barrier), and every load here depends on the address `withCurrent` loaded with
  /// `rcu_dereference` (snapshot, then index, then the element's reference in the
  /// immutable pool, then its fields), so a correct publication is always seen set.
  /// Age: the writer raises an element's age only after a `synchronize()` that began after
  /// the element was unpublished; a reader that found it published is, by RCU's guarantee,
  /// out of its section before that `synchronize()` returns, so it sees age 0. (rcutorture
  /// flags 2 and up because its writer bumps the count once before the grace period; this
  /// writer does not.)
  @inline(__always)
  private func look(_ seen: inout SectionObservation) -> Int? {
    guard let index = cell.withCurrent({ $0.element(poolSize: pool.count) }) else {
      seen.freedSnapshot = true
      return nil
    }
    pool.with(index) { element in
      let marker = element.marker.load(ordering: .relaxed)
      if marker != TortureElement.initialized { seen.badMarker = marker }
      seen.age = max(seen.age, element.age.load(ordering: .relaxed))
    }
    return index
  }

  /// Turns what a section saw into violations.
  private func check(_ seen: SectionObservation, reader: Int) {
    if seen.completedAtExit > seen.startedAtEntry {
      violations.record(
        .gracePeriodOverlap,
        "reader \(reader): synchronize ticket \(seen.completedAtExit) started after it entered "
          + "(\(seen.startedAtEntry) started then) and completed before it left")
    }
    if seen.ranAtExit > seen.queuedAtEntry {
      violations.record(
        .callbackEarly,
        "reader \(reader): deferred callback \(seen.ranAtExit) was queued after it entered "
          + "(\(seen.queuedAtEntry) queued then) and ran before it left")
    }
    if seen.age >= 1 {
      violations.record(
        .gracePeriodAge,
        "reader \(reader) held an element the writer had replaced and waited "
          + "\(seen.age) grace period(s) for")
    }
    if seen.freedSnapshot {
      violations.record(
        .gracePeriodAge, "reader \(reader) read a snapshot that had been freed and reused")
    }
    if let marker = seen.badMarker {
      violations.record(
        .publishOrdering,
        "reader \(reader) saw a published element whose marker was 0x\(String(marker, radix: 16))")
    }
  }
}
