import CLitmus
import Foundation
import Glibc
import HostSupport
import RCU
import Synchronization

/// One `stress litmus` run on one flavor: a reader thread and a writer thread, pinned to two
/// CPUs where the process may use two, run the configured tests in turn (slices of
/// ``LitmusConfiguration/sliceSeconds``), each iteration started together
/// (``LitmusHandshake``), and count every outcome; a forbidden outcome is a violation.
///
/// Each test is designed so that its race window is met on most iterations, whatever the
/// flavor's grace period costs: the accesses that race are a handful of loads and stores
/// between the handshake and the writer's grace period; the reader waits inside its section
/// for a random delay of up to three of the writer's fastest recent grace periods, so that
/// a grace period that did not wait for it ends while it is still inside; the message
/// passing and callback tests wait for no grace period per iteration at all.
public final class LitmusRun<Flavor: RCUFlavor>: Sendable {
  let configuration: LitmusConfiguration
  let violations = Violations()
  /// Where the run ran short (a wait past the stall timeout while its threads were starved).
  let shortfalls = Shortfalls()
  let handshake = LitmusHandshake()
  let cells: [LitmusCells]
  let tallies: [LitmusTally]
  let stop = StopFlag()
  /// The longest delay the reader makes inside a section, in ``litmus_delay`` loops: three
  /// of the writer's fastest recent grace periods, at least ``shortestReaderDelay``.
  let readerDelayLimit = Atomic<UInt64>(LitmusRun.shortestReaderDelay)
  /// How many ``litmus_delay`` loops make a nanosecond, times 1024 (measured at start).
  let loopsPerNanosecond1024: UInt64
  /// The CPUs the reader and the writer are pinned to, if they are.
  let cpus: (reader: Int32, writer: Int32)?
  /// Writer faults made (`publish-before-init`).
  let writerFaults = Atomic<UInt64>(0)

  /// The shortest bound of the reader's delay inside a section, in loops (a few hundred ns).
  static var shortestReaderDelay: UInt64 { 512 }
  /// Slots of the message-passing test, and how often it waits for a grace period to reuse
  /// them.
  static var messageSlots: Int { 64 }
  /// Slots of the callback test: a slot is reused once the callback that poisoned it ran.
  static var callbackSlots: Int { 1024 }

  public init(_ configuration: LitmusConfiguration) {
    self.configuration = configuration
    cells = configuration.tests.map { test in
      LitmusCells(
        slots: test == .messagePassing
          ? Self.messageSlots : test == .callback ? Self.callbackSlots : 2)
    }
    tallies = configuration.tests.map(LitmusTally.init)
    loopsPerNanosecond1024 = Self.calibrate()
    var allowed = [Int32](repeating: 0, count: 2)
    cpus =
      litmus_allowed_cpus(&allowed, 2) == 2 ? (reader: allowed[0], writer: allowed[1]) : nil
  }

  /// Runs for the configured duration (or until a violation) and returns the report.
  public func run() throws -> LitmusReport {
    let c = configuration
    violations.startClock()
    let handshake = self.handshake
    let watchdog = try StallWatchdog(
      timeout: c.stallTimeout, violations: violations, shortfalls: shortfalls,
      census: { [handshake] in Self.census(handshake) })
    defer { watchdog.stop() }
    let started = monotonicNanoseconds()
    let reader = try startThreads(1, named: "litmus reader") { _ in self.read() }
    let writerSlot = watchdog.slot("litmus writer")
    let writer = try startThreads(1, named: "litmus writer") { _ in
      self.write(writerSlot)
    }
    let progress = try Progress { elapsed in
      let total = self.tallies.reduce(0) { $0 + $1.iterations }
      return String(
        format: "litmus %.0fs: %.2fM iterations/s, %d violations", elapsed,
        Double(total) / elapsed / 1e6, self.violations.count)
    }
    // Past the duration, the run goes on (up to --minimum-work-within) only while a test
    // is short of its minimum.
    let deadline = started + UInt64(c.duration * 1e9)
    let extended = deadline + UInt64(c.minimumWorkWithin * 1e9)
    while !violations.any && !writer[0].hasFinished {
      let now = monotonicNanoseconds()
      if now >= extended || (now >= deadline && minimumReached) { break }
      usleep(10_000)
    }
    stop.set()
    let joined = watchdog.join([("litmus reader", reader), ("litmus writer", writer)])
    progress.stop()
    let elapsed = Double(monotonicNanoseconds() - started) / 1e9
    // Deferred callbacks still queued touch the test's cells, which they keep alive; a
    // barrier here only makes the report's counts final.
    let settled =
      joined && watchdog.bounded(.barrier, thread: "main (final barrier)", { Flavor.barrier() })
    return report(elapsed: elapsed, stall: watchdog.summary, finalBarrierRan: settled)
  }

  /// Whether every test has run its minimum of work.
  var minimumReached: Bool { tallies.allSatisfy { $0.reached(configuration.minimum) } }

  /// The test after `test` in turn, among those still short of their minimum if any are:
  /// a run spends its slices where the verdict needs them (on bp, a grace period per
  /// iteration makes deferred-free and nested-sections thousands of times slower than
  /// message-passing).
  func nextTest(after test: Int) -> Int {
    let count = tallies.count
    let order = (1...count).map { (test + $0) % count }
    return order.first { !tallies[$0].reached(configuration.minimum) } ?? order[0]
  }

  /// Measures ``litmus_delay``: loops per nanosecond, times 1024.
  private static func calibrate() -> UInt64 {
    let loops: UInt32 = 2_000_000
    let start = monotonicNanoseconds()
    litmus_delay(loops)
    let elapsed = max(monotonicNanoseconds() - start, 1)
    return max(UInt64(loops) * 1024 / elapsed, 1)
  }

  /// Loops of ``litmus_delay`` that take about `nanoseconds`.
  func loops(_ nanoseconds: UInt64) -> UInt64 { nanoseconds * loopsPerNanosecond1024 / 1024 }

  /// The reader thread's whereabouts, for a stall report.
  private static func census(_ handshake: LitmusHandshake) -> [String] {
    let since = handshake.readerStarted
    let now = coarseNanoseconds()
    guard since != 0 else { return [] }
    return [
      "the litmus reader, whose latest iteration (a section of a few microseconds) began "
        + String(format: "%.2f s ago", Double(now &- min(now, since)) / 1e9)
    ]
  }
}
