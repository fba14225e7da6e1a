import Dispatch
import Glibc
import Histogram
import HostSupport
import RCU
import Synchronization

/// Hotplug threads: each owns some of the target's slots and keeps plugging, unplugging
/// (single calls and batches, synchronous and deferred removals) and, for a target that
/// supports it, moving them, and runs
/// the checks every removal owes once its grace period has passed:
/// - the stale-section check (``SectionEpochs``): no vCPU still in a read-side section
///   that began before the removal was published;
/// - the target's own (``HotplugTarget/released(_:when:)``): no thread inside a removed
///   device, eventfds retired so that a later signal is caught.
final class Hotplug<Target: HotplugTarget>: Sendable {
  let target: Target
  let counters = ShardedCounters<HotplugCounter>()
  private let sections: SectionEpochs
  private let violations: Violations
  private let shortfalls: Shortfalls
  private let threads: Int
  private let seed: UInt64
  private let skipEvery: Int
  private let waits = Mutex(Histogram<UInt64>(highestTrackableValue: 120_000_000_000))
  private let moveCount = Atomic<UInt64>(0)
  private let heldBackCount = Atomic<UInt64>(0)
  /// The last removals of the threads go one thread at a time: all of them at once queued
  /// on the bus's writer lock (a priority-inheriting futex), and a process ending with 128
  /// threads queued there took seconds to exit on a loaded machine; here they wait on a
  /// plain semaphore instead.
  private let finalTurn = DispatchSemaphore(value: 1)
  private let abandoned = StopFlag()
  /// Deferred removals issued, against ``HotplugCounter/deferredReleases`` run: what the
  /// stall watchdog follows.
  private let deferredIssued = Atomic<UInt64>(0)

  /// Hotplug over `target` with `threads` threads. `skipEvery` is the engine's
  /// `skip-grace-period` fault: when nonzero, every `skipEvery`-th removal of each thread
  /// runs its checks and releases its devices right away, before its grace period (the
  /// bus itself still waits before freeing its table). A change the host has no
  /// resources for (``ShortfallKind``) is recorded in `shortfalls` and tried again later;
  /// any other failure is a `hotplug-failure` violation and ends the thread.
  init(
    target: Target, threads: Int, sections: SectionEpochs, violations: Violations,
    shortfalls: Shortfalls, seed: UInt64, skipEvery: Int
  ) {
    self.target = target
    self.threads = threads
    self.sections = sections
    self.violations = violations
    self.shortfalls = shortfalls
    self.seed = seed
    self.skipEvery = skipEvery
  }

  /// How long synchronous removals blocked.
  var gracePeriodWaits: LatencySummary {
    LatencySummary(waits.withAnnotatedLock(owner: self) { $0 })
  }

  /// Registrations moved (by targets that move; the counters hold 8 kinds at most).
  var moves: UInt64 { moveCount.load(ordering: .relaxed) }

  /// Slots left unplugged because the target had no room for them (back-pressure: see
  /// ``HotplugTarget/admits(adding:)``).
  var heldBack: UInt64 { heldBackCount.load(ordering: .relaxed) }

  /// Removal checks run: one per removing update, after its grace period (or at once,
  /// under the fault).
  var removalChecks: UInt64 {
    counters[.gracePeriodsWaited] + counters[.deferredReleases] + counters[.skippedGracePeriods]
  }

  /// Starts the hotplug threads; each runs until `stop` is raised, then unplugs what it
  /// still holds (synchronously, with the same checks). With a `watchdog`, every
  /// synchronous removal and the deferred releases are watched for stalls.
  func start(until stop: StopFlag, watchdog: StallWatchdog? = nil) throws(SetupFailure)
    -> [RunThread]
  {
    let slots = (0..<threads).map { watchdog?.slot("hotplug \($0)") }
    watchdog?.watchProgress(
      "deferred releases",
      pending: { [self] in
        deferredIssued.load(ordering: .relaxed) &- counters[.deferredReleases]
      }, completed: { [self] in counters[.deferredReleases] })
    return try startThreads(threads, named: "hotplug", priority: .lowered) {
      self.run(thread: $0, until: stop, slot: slots[$0])
    }
  }

  private enum Removal { case synchronous, deferred, skipped }

  private func run(thread: Int, until stop: StopFlag, slot: WaitSlot?) {
    let owned = Array(stride(from: thread, to: target.slotCount, by: threads))
    guard !owned.isEmpty else { return }
    var rng = SplitMix64(seed: seed ^ (UInt64(thread + 1) &* 0xD1B5_4A32_D192_ED03))
    var plugged: [Int: Target.Plug] = [:]
    var removals = 0
    do {
      while !stop.isSet {
        let gate = target.changeGate
        guard gate?.enter(unless: stop) ?? true else { break }
        defer { gate?.leave() }
        if target.supportsMoves && !plugged.isEmpty && rng.next() % 4 == 0 {
          try move(among: &plugged, rng: &rng)
          continue
        }
        let batch = target.supportsBatches && rng.next() % 4 == 0 ? Int(2 + rng.next() % 3) : 1
        let chosen = Set((0..<batch).map { _ in owned[Int(rng.next() % UInt64(owned.count))] })
        var adding = chosen.filter { plugged[$0] == nil }.sorted()
        let removing = chosen.sorted().compactMap { plugged[$0] }
        var how = Removal.synchronous
        if !removing.isEmpty {
          removals += 1
          if skipEvery > 0 && removals % skipEvery == 0 {
            how = .skipped
          } else if target.supportsDeferredRemovals && rng.next() % 3 == 0 {
            how = .deferred
          }
        }
        if !adding.isEmpty && !target.admits(adding: adding.count) {
          heldBackCount.add(UInt64(adding.count), ordering: .relaxed)
          adding = []
          if removing.isEmpty {
            // Nothing to do until the checker catches up: do not spin on the decision.
            usleep(1000)
            continue
          }
        }
        guard
          let added = try changeOrBackOff(
            thread: thread, adding: adding, removing: removing, batched: chosen.count > 1, how,
            slot: slot)
        else { continue }
        for plug in removing { plugged[target.slot(of: plug)] = nil }
        for plug in added { plugged[target.slot(of: plug)] = plug }
      }
      try unplugAtTheEnd(plugged.keys.sorted().map { plugged[$0]! }, slot: slot)
    } catch {
      violations.record(.hotplugFailure, "hotplug thread \(thread): \(error)")
    }
  }

  /// The thread's last removals, one thread at a time (``finalTurn``), unless the run has
  /// given up on them (``abandon()``).
  private func unplugAtTheEnd(_ remaining: [Target.Plug], slot: WaitSlot?) throws {
    while finalTurn.wait(timeout: .now() + .milliseconds(10)) == .timedOut {
      if abandoned.isSet { return }
    }
    defer { finalTurn.signal() }
    if abandoned.isSet || remaining.isEmpty { return }
    if target.supportsBatches {
      _ = try change(adding: [], removing: remaining, batched: true, .synchronous, slot: slot)
    } else {
      for plug in remaining {
        _ = try change(adding: [], removing: [plug], batched: false, .synchronous, slot: slot)
      }
    }
  }

  /// Tells the threads still waiting to make their last removals not to: the run's time
  /// is up, and it ends without them (a shortfall it reports).
  func abandon() { abandoned.set() }

  /// One change; nil when the host had no resources for it (nothing changed: targets make
  /// their eventfds before any bus call), recorded as a shortfall after a pause.
  private func changeOrBackOff(
    thread: Int, adding: [Int], removing: [Target.Plug], batched: Bool, _ how: Removal,
    slot: WaitSlot?
  ) throws -> [Target.Plug]? {
    do {
      return try change(adding: adding, removing: removing, batched: batched, how, slot: slot)
    } catch  where shortfalls.recordIfExhaustion(error, doing: "hotplug thread \(thread)") {
      usleep(10_000)
      return nil
    }
  }

  /// Moves one to three of the plugged slots (one publish each, or one batch).
  private func move(among plugged: inout [Int: Target.Plug], rng: inout SplitMix64) throws {
    let slots = plugged.keys.sorted()
    let count = Int(1 + rng.next() % 3)
    let chosen = Set((0..<count).map { _ in slots[Int(rng.next() % UInt64(slots.count))] }).sorted()
    let moved = try target.move(chosen.map { plugged[$0]! }, batched: chosen.count > 1)
    moveCount.add(UInt64(moved.count), ordering: .relaxed)
    for plug in moved { plugged[target.slot(of: plug)] = plug }
  }

  /// One update; a removal first takes its epoch, and gets its checks after its grace
  /// period (or, under the fault, right away).
  private func change(
    adding: [Int], removing: [Target.Plug], batched: Bool, _ how: Removal, slot: WaitSlot?
  ) throws -> [Target.Plug] {
    let added: [Target.Plug]
    if removing.isEmpty {
      added = try target.update(adding: adding, removing: [], batched: batched, wait: .synchronous)
    } else {
      added = try remove(removing, adding: adding, batched: batched, how, slot: slot)
      counters.add(.removals, UInt64(removing.count))
    }
    counters.add(.registrations, UInt64(adding.count))
    counters.add(.updates)
    if batched { counters.add(.batches) }
    return added
  }

  /// An update that removes: it first takes its epoch, and gets its checks after its grace
  /// period (or, under the fault, right away).
  private func remove(
    _ removing: [Target.Plug], adding: [Int], batched: Bool, _ how: Removal, slot: WaitSlot?
  ) throws -> [Target.Plug] {
    let removal = sections.beginRemoval()
    switch how {
    case .synchronous:
      let start = monotonicNanoseconds()
      let update = {
        try self.target.update(
          adding: adding, removing: removing, batched: batched, wait: .synchronous)
      }
      let added = try slot?.waiting(for: .synchronousRemoval, update) ?? update()
      let waited = monotonicNanoseconds() - start
      waits.withAnnotatedLock(owner: self) { _ = $0.record(waited) }
      counters.add(.gracePeriodsWaited)
      checkReleased(removing, removal: removal, when: "its synchronous unregister returned")
      return added
    case .deferred:
      deferredIssued.add(1, ordering: .relaxed)
      let added = try target.update(
        adding: adding, removing: removing, batched: batched,
        wait: .deferred { [self] in
          counters.add(.deferredReleases)
          checkReleased(removing, removal: removal, when: "its deferred release ran")
        })
      return added
    case .skipped:
      let added = try target.update(
        adding: adding, removing: removing, batched: batched, wait: .deferred {})
      counters.add(.skippedGracePeriods)
      checkReleased(
        removing, removal: removal,
        when: "its unregister returned (grace period skipped by the fault)")
      return added
    }
  }

  /// The checks a removal owes after its grace period, then the target's.
  private func checkReleased(_ removed: [Target.Plug], removal: UInt64, when: String) {
    // Deferred releases run on liburcu's call_rcu thread, which the engine did not start.
    CrashGuard.prepareCurrentThread()
    let check = sections.check(removal: removal)
    counters.add(.sectionsSeen, UInt64(check.occupied))
    for (vcpu, epoch) in check.stale {
      violations.record(
        .staleSection,
        "vCPU \(vcpu) was inside a read-side section that began before removal \(removal) "
          + "(slots \(removed.map { target.slot(of: $0) })) was published (it read epoch "
          + "\(epoch)) when \(when)")
    }
    for plug in removed { target.released(plug, when: when) }
  }
}

/// What hotplug threads count, one shard per thread.
enum HotplugCounter: Int, CaseIterable {
  /// Slots plugged.
  case registrations
  /// Slots unplugged.
  case removals
  /// Updates (each a single call per registration, or a batch).
  case updates
  /// Updates made as one batch.
  case batches
  /// Updates that removed and blocked for their grace period.
  case gracePeriodsWaited
  /// Deferred release callbacks that ran.
  case deferredReleases
  /// Removals whose grace period the fault skipped.
  case skippedGracePeriods
  /// vCPUs found inside a read-side section by the removal checks: how much the
  /// stale-section check had to look at.
  case sectionsSeen
}
