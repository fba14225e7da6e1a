import Foundation
import Glibc
import Histogram
import HostSupport
import RCU
import Synchronization

/// What the torture's threads count, one shard per thread.
enum TortureCounter: Int, CaseIterable {
  case reads
  case nestedReads
  case longSections
  case updates
  case barriers
  /// Writer updates whose replaced snapshot went to a deferred callback.
  case deferredReclaims
}

/// An rcutorture-style check of one RCU flavor (this project's own, written from the
/// published description of rcutorture's checks): readers hold published elements through
/// sections of varied length, a writer replaces them and waits for grace periods, fake
/// writers add grace periods and checked deferred callbacks, and every check below is
/// exact, so a fault is caught however rarely it fires.
///
/// - Reader batch (``GracePeriodTickets``): no `synchronize()` both starts after a reader
///   entered and returns before it left.
/// - Pipeline age (`TortureRun+Reader`): no reader holds an element the writer replaced and
///   then waited a grace period for.
/// - Publish ordering (`TortureRun+Reader`): an element's marker, set before publication,
///   is always seen set.
/// - Callbacks (``CallbackTickets``): each runs exactly once, never before a grace period
///   that began after it was queued, and before the `barrier()` that follows it returns.
/// - Reclamation: after the final `barrier()` no retired snapshot is left.
/// - Stalls (``StallWatchdog``): no `synchronize()`, `barrier()` or queue of deferred
///   callbacks makes no progress for the stall timeout.
public final class TortureRun<Flavor: RCUFlavor>: Sendable {
  static var pipelineLength: Int { 10 }

  let configuration: TortureConfiguration
  let budget: RunBudget
  let violations = Violations()
  let shortfalls = Shortfalls()
  let pool = TorturePool(count: 64)
  let cell: RCUPublished<Flavor, TortureSnapshot>
  let gracePeriods = GracePeriodTickets()
  let callbacks: CallbackTickets
  let stop = StopFlag()
  let counters = ShardedCounters<TortureCounter>()
  let writerFaults = Atomic<UInt64>(0)
  let longDelays = LongDelayBound()
  let agesSeen = Mutex([UInt64](repeating: 0, count: TortureRun.pipelineLength + 1))
  let gracePeriodWaits = Mutex(Histogram<UInt64>(highestTrackableValue: 120_000_000_000))
  /// Callbacks the writers queued after their last `barrier()`, checked after the final one.
  let leftovers = Mutex<[CheckedCallback]>([])
  /// Which readers are inside a section, for a stall report.
  let census: SectionCensus
  private let started = monotonicNanoseconds()

  public init(_ configuration: TortureConfiguration) {
    budget = RunBudget(
      duration: configuration.duration, extension: configuration.minimumWorkWithin)
    self.configuration = configuration
    census = SectionCensus(readers: configuration.readers, role: "reader")
    callbacks = CallbackTickets(violations: violations)
    pool.with(0) { $0.marker.store(TortureElement.initialized, ordering: .relaxed) }
    cell = RCUPublished(TortureSnapshot(index: 0))
  }

  /// Runs for the configured duration (or until a violation) and returns the report, all
  /// within the run's budget (``RunBudget``): a thread still inside `synchronize()` or
  /// `barrier()` when the time runs out is left behind as a shortfall, and the final checks
  /// that needed it are not made.
  public func run() throws -> TortureReport {
    let c = configuration
    // First-seen times count from here: a fault can fire while the threads start.
    violations.startClock()
    let census = self.census
    let watchdog = try StallWatchdog(
      timeout: c.stallTimeout, violations: violations, shortfalls: shortfalls,
      census: { census.inside() })
    defer { watchdog.stop() }
    let callbacks = self.callbacks
    watchdog.watchProgress(
      "deferred callbacks", pending: { callbacks.queued &- callbacks.runCount },
      completed: { callbacks.runCount })
    let readers = try startThreads(c.readers, named: "reader", priority: .lowered) {
      self.read(reader: $0)
    }
    let writerSlot = watchdog.slot("writer")
    let writer = try startThreads(1, named: "writer", priority: .lowered) { _ in
      self.write(writerSlot)
    }
    let fakeSlots = (0..<c.fakeWriters).map { watchdog.slot("fake writer \($0)") }
    let fakeWriters = try startThreads(c.fakeWriters, named: "fake writer", priority: .lowered) {
      self.fakeWrite(writer: $0, fakeSlots[$0])
    }
    let progress = try Progress { elapsed in
      String(
        format:
          "torture %.0fs: %.2fM reads/s, %.0f grace periods/s, %.0f callbacks/s, %d violations",
        elapsed, Double(self.counters[.reads]) / elapsed / 1e6,
        Double(self.gracePeriods.completedCount) / elapsed,
        Double(self.callbacks.runCount) / elapsed, self.violations.count)
    }
    while !violations.any
      && !budget.workIsOver(
        now: monotonicNanoseconds(), running: started,
        minimumMet: { self.work().allSatisfy(\.met) })
    {
      usleep(10_000)
    }
    stop.set()
    let windDown = budget.windDownDeadline
    let busy = (readers + writer + fakeWriters).join(
      until: windDown, givingUp: watchdog.givingUp)
    progress.stop()
    let elapsed = Double(monotonicNanoseconds() - started) / 1e9
    var checked = false
    if busy > 0 {
      shortfalls.record(
        .time,
        "\(busy) thread(s) were still inside a section, synchronize() or barrier() when the "
          + "time ran out; the final barrier and its checks were not made")
    } else if let ran = result(
      by: windDown, givingUp: watchdog.givingUp, { self.finalChecks(watchdog) })
    {
      checked = ran
    } else {
      shortfalls.record(.time, "the final barrier() had not returned when the time ran out")
    }
    return report(elapsed: elapsed, stall: watchdog.summary, finalChecksRan: checked)
  }

  /// After every thread has stopped: one more `barrier()`, then every callback has run and
  /// every retired snapshot has been reclaimed. False if the barrier stalled.
  private func finalChecks(_ watchdog: StallWatchdog) -> Bool {
    guard watchdog.bounded(.barrier, thread: "main (final barrier)", { Flavor.barrier() }) else {
      return false
    }
    leftovers.withAnnotatedLock(owner: self) { callbacks.checkRan(&$0) }
    if cell.retiredCount != 0 {
      violations.record(
        .reclamation, "\(cell.retiredCount) retired snapshot(s) never reclaimed after barrier()")
    }
    return true
  }
}
