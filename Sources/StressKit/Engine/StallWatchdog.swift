import Foundation
import Glibc
import HostSupport
import RCU
import Synchronization

extension ViolationKind {
  /// A grace period, barrier, synchronous removal or the run's deferred callbacks made no
  /// progress for the stall timeout (``StallWatchdog``), or a thread did not stop within it
  /// after the run ended. The report names the waiting operation and thread, how long it
  /// waited, and the reader threads inside a section with their last section start.
  public static let stall = ViolationKind("stall")
}

/// What a watched thread can be waiting for.
public enum WaitedOperation: Int, CaseIterable, Codable, Sendable {
  case synchronize = 1
  case barrier
  /// A synchronous unregister (or batch): its grace period.
  case synchronousRemoval
  /// A deferred callback the operation needs before it can go on (a slot to reuse).
  case deferredCallback

  /// The operation as a report names it.
  public var text: String {
    switch self {
    case .synchronize: "synchronize()"
    case .barrier: "barrier()"
    case .synchronousRemoval: "a synchronous unregister (its grace period)"
    case .deferredCallback: "a deferred callback"
    }
  }
}

/// rcutorture's stall warning, for the stress tool: a thread that watches every grace
/// period, barrier and synchronous removal the run's threads wait for, and the progress of
/// its deferred callbacks, and reports a `stall` violation when one makes no progress for
/// the timeout.
///
/// A stalled thread cannot be cancelled, so the run is built around it: the watchdog
/// records the violation (the run then ends as at any violation), ``join(_:)`` stops
/// waiting for threads that do not finish and abandons them, the run's final waits go
/// through ``bounded(_:thread:_:)``, and the report is written as usual; the command
/// then ends the process with `_exit` (``threadsAbandoned``), leaving the stuck threads
/// behind. Whatever the stall, a run ends within its duration plus about one timeout.
///
/// Watching costs a waiting thread two relaxed stores and a clock read per operation, on
/// its own slot; the watchdog polls ``pollNanoseconds`` apart.
public final class StallWatchdog: Sendable {
  /// The default timeout, in seconds. Grace periods here end in microseconds (memb, qsbr,
  /// mb) to tens of milliseconds (bp, signal, or readers asleep in a section); with two
  /// CPU hogs on this 2-core machine the longest wait measured was a few hundred
  /// milliseconds (docs/stress.md, "Stalls"). Two seconds is several times that, and
  /// short enough that a stalled run still ends about on time.
  public static let defaultTimeout = 2.0

  /// Set once any run of this process abandoned a thread (a stall, or a wind-down whose
  /// time ran out): the command must then end the process with `_exit` once its report is
  /// out, since a stuck thread may hold a lock an exit handler needs.
  public static var threadsAbandoned: Bool { RunThread.abandoned.load(ordering: .relaxed) }

  let timeoutNanoseconds: UInt64
  let violations: Violations
  /// Where a wait past the timeout goes when the run's threads were starved of CPU meanwhile.
  let shortfalls: Shortfalls
  let started = monotonicNanoseconds()
  private let census: @Sendable () -> [String]
  private let slots = Mutex<[WaitSlot]>([])
  private let gauges = Mutex<[ProgressGauge]>([])
  private let fired = Atomic<Bool>(false)
  /// When the stall was reported (monotonic nanoseconds; 0: not yet).
  private let firedAt = Atomic<UInt64>(0)
  private let finish = StopFlag()
  private let thread = Mutex<RunThread?>(nil)
  /// Scheduler snapshots of the process's threads, a quarter of the timeout apart, the
  /// oldest first (``CPUStarvation``).
  private let schedule = Mutex<[CPUStarvation]>([])

  /// Starts watching, with `timeout` seconds; `census` describes the reader threads inside
  /// a section (with their last section start) for a report. A wait past the timeout while
  /// the run's threads were starved of CPU is recorded in `shortfalls`, not as a stall.
  init(
    timeout: Double, violations: Violations, shortfalls: Shortfalls,
    census: @escaping @Sendable () -> [String] = { [] }
  ) throws(SetupFailure) {
    timeoutNanoseconds = UInt64(timeout * 1e9)
    self.violations = violations
    self.shortfalls = shortfalls
    self.census = census
    let started = try StressKit.startThreads(1, named: "stall watchdog") { [self] _ in watch() }[0]
    thread.withAnnotatedLock(owner: self) { $0 = started }
  }

  /// How often the watchdog looks: a twentieth of the timeout, at most 50 ms.
  var pollNanoseconds: UInt64 { min(timeoutNanoseconds / 20, 50_000_000) }

  /// Whether a stall has been reported.
  var stalled: Bool { fired.load(ordering: .relaxed) }

  /// Whether waiting for the run's threads has become pointless: a stall was reported a
  /// moment ago (a fifth of a second, or the timeout if shorter, for the threads that were
  /// merely slow to finish). Wind-down waits give up then instead of at their deadline.
  func givingUp() -> Bool {
    let at = firedAt.load(ordering: .relaxed)
    return at != 0 && monotonicNanoseconds() &- at >= min(timeoutNanoseconds, 200_000_000)
  }

  /// A slot for the thread named `thread` (`"writer"`, `"hotplug 2"`), to wrap its waits in.
  func slot(_ thread: String) -> WaitSlot {
    let slot = WaitSlot(thread: thread)
    slots.withAnnotatedLock(owner: self) { $0.append(slot) }
    return slot
  }

  /// Watches a queue of deferred work: a stall when `pending` stays above 0 while
  /// `completed` does not move for the timeout.
  func watchProgress(
    _ what: String, pending: @escaping @Sendable () -> UInt64,
    completed: @escaping @Sendable () -> UInt64
  ) {
    gauges.withAnnotatedLock(owner: self) {
      $0.append(ProgressGauge(what: what, pending: pending, completed: completed))
    }
  }

  /// Stops the watchdog thread; what it found stays recorded.
  func stop() {
    finish.set()
    thread.withAnnotatedLock(owner: self) { $0 }?.join()
  }

  /// The timeout and the longest wait of each operation, for the report.
  var summary: StallSummary {
    var longest: [String: Double] = [:]
    for slot in slots.withAnnotatedLock(owner: self, { $0 }) {
      for (operation, nanoseconds) in slot.longestWaits {
        longest[operation.text] = max(longest[operation.text] ?? 0, Double(nanoseconds) / 1e9)
      }
    }
    return StallSummary(
      timeoutSeconds: Double(timeoutNanoseconds) / 1e9, longestWaitSeconds: longest,
      stalled: stalled)
  }

  /// Records a stall once: `what` names the waiting operation and how long it waited.
  func reportStall(_ what: String) {
    fired.store(true, ordering: .relaxed)
    firedAt.store(monotonicNanoseconds(), ordering: .relaxed)
    let inside = census()
    violations.record(
      .stall,
      what + "; inside a read-side section: "
        + (inside.isEmpty ? "no reader" : inside.joined(separator: ", ")))
  }

  /// Seconds since the watchdog started, for reports ("3.214 s into the run").
  func runSeconds(at nanoseconds: UInt64) -> String {
    String(format: "%.3f s", Double(nanoseconds &- min(nanoseconds, started)) / 1e9)
  }

  /// The threads starved of CPU over the last half timeout or more, or else, when no
  /// reader is inside a read-side section, the machine saturated meanwhile, described; nil
  /// when neither (or the kernel keeps no account), as `now` (a fresh snapshot unless
  /// given) shows them. Keeps `now` for later calls too.
  func starvation(_ now: CPUStarvation = .now()) -> String? {
    let earlier = keep(now)
    return earlier.flatMap {
      now.describeStarvation(since: $0, saturationCounts: census().isEmpty)
    }
  }

  /// Keeps `snapshot` if the latest kept is a quarter timeout old or more (five at most);
  /// returns the latest kept that is half a timeout older than `snapshot` or more.
  @discardableResult
  private func keep(_ snapshot: CPUStarvation) -> CPUStarvation? {
    // The watch thread and a join on another thread both keep snapshots, so `snapshot` may
    // be older than the latest kept: only older ones count as earlier, and a difference
    // never wraps (a wrapped window once overflowed a product and trapped).
    schedule.withAnnotatedLock(owner: self) { history in
      if history.last.map({ $0.at <= snapshot.at && snapshot.at - $0.at >= timeoutNanoseconds / 4 })
        ?? true
      {
        history.append(snapshot)
        if history.count > 5 { history.removeFirst() }
      }
      return history.last { $0.at <= snapshot.at && snapshot.at - $0.at >= timeoutNanoseconds / 2 }
    }
  }

  /// Whether the latest snapshot kept is a quarter timeout old or more.
  private func snapshotDue(now: UInt64) -> Bool {
    schedule.withAnnotatedLock(owner: self) { history in
      history.last.map { now &- $0.at >= timeoutNanoseconds / 4 } ?? true
    }
  }

  /// How many timeouts a wait may last while the process's threads are starved before it
  /// is a stall all the same: starvation explains a slow grace period (3.2 s at most, with
  /// two CPU hogs and vCPUs at nice 10), not one that never ends. The threads looked at
  /// are all the process's, which in a test process include other tests' threads.
  static let starvedTimeouts: UInt64 = 4

  /// A wait of `waited` nanoseconds past the timeout: a stall, unless the process's threads
  /// were starved of CPU meanwhile and it has not lasted ``starvedTimeouts`` timeouts yet,
  /// which makes it the machine's doing (a shortfall; the wait is looked at again half a
  /// timeout later). Returns whether it was reported as a stall.
  @discardableResult
  func judge(_ what: String, waited: UInt64, starvation: String?) -> Bool {
    guard let starvation else {
      reportStall(what)
      return true
    }
    guard waited < Self.starvedTimeouts * timeoutNanoseconds else {
      reportStall("\(what), though \(starvation)")
      return true
    }
    shortfalls.record(.threads, "\(what), not judged a stall: \(starvation)")
    return false
  }

  private func watch() {
    var lookAgainAt: UInt64 = 0
    while !finish.isSet {
      usleep(UInt32(pollNanoseconds / 1000))
      let now = monotonicNanoseconds()
      // One schedstat snapshot per poll at most: the periodic one, reused by the look.
      let periodic = snapshotDue(now: now) ? CPUStarvation.now() : nil
      if let periodic { keep(periodic) }
      let slots = slots.withAnnotatedLock(owner: self, { $0 })
      // A wait seen inside a KVM ioctl is followed at every poll: its stall clock starts
      // when it leaves the kernel.
      for slot in slots where slot.inKernelPart(now: now) && slot.kernelWait?.isInIoctl == true {
        slot.noteKernelPart(now: now)
      }
      guard now >= lookAgainAt else { continue }
      // Looked at once per poll, and only for a wait past the timeout.
      var looked: String?? = nil
      func starved() -> String? {
        if looked == nil { looked = .some(starvation(periodic ?? .now())) }
        return looked!
      }
      for slot in slots where !look(at: slot, now: now, starved: starved) {
        lookAgainAt = now + timeoutNanoseconds / 2
      }
      for gauge in gauges.withAnnotatedLock(owner: self, { $0 }) {
        guard let (pending, idle) = gauge.stalled(now: now, timeout: timeoutNanoseconds)
        else { continue }
        let what =
          "\(gauge.what): \(pending) queued, none ran for "
          + String(format: "%.2f s", Double(idle) / 1e9)
        if judge(what, waited: idle, starvation: starved()) {
          gauge.markReported()
        } else {
          lookAgainAt = now + timeoutNanoseconds / 2
        }
      }
    }
  }
}

extension StallWatchdog {
  /// Looks at `slot`'s wait, if it has lasted the timeout: a wait inside ioctl(2) is KVM's
  /// (a shortfall, once per wait; its stall clock starts again when it leaves the kernel),
  /// any other is judged (``judge(_:waited:starvation:)``). Returns false when the wait was
  /// put down to starvation and must be looked at again later. `kernel` says where the
  /// slot's thread is in the kernel (read from /proc unless given).
  func look(
    at slot: WaitSlot, now: UInt64, kernel: (WaitSlot) -> KernelWait? = { $0.kernelWait },
    starved: () -> String?
  ) -> Bool {
    guard let wait = slot.stalledSince(now: now, timeout: timeoutNanoseconds) else { return true }
    let kernel = kernel(slot)
    if let kernel, kernel.isInIoctl {
      if wait.kernelPartSeen == nil {
        shortfalls.record(
          .time,
          "\(slot.thread): \(wait.operation.text) waited "
            + String(format: "%.2f s", Double(now - wait.start) / 1e9)
            + " inside the kernel (\(kernel.text)): KVM's own work, in which the RCU under "
            + "test takes no part; not judged a stall")
      }
      slot.noteKernelPart(now: now)
      return true
    }
    let from = wait.kernelPartSeen ?? wait.start
    let what =
      "\(slot.thread): \(wait.operation.text) made no progress for "
      + String(format: "%.2f s", Double(now - from) / 1e9)
      + (wait.kernelPartSeen == nil
        ? "" : String(format: " after %.2f s inside the kernel", Double(from - wait.start) / 1e9))
      + " (called \(runSeconds(at: wait.start)) into the run; its thread: "
      + (kernel?.text ?? "state unknown") + ")"
    guard judge(what, waited: now - from, starvation: starved()) else { return false }
    slot.markReported(wait.start)
    return true
  }
}

/// What the watchdog found, in a report: its timeout, the longest wait of each operation
/// it watched (how far a clean run stayed from a stall), and whether it fired.
public struct StallSummary: Codable, Sendable, Equatable {
  public let timeoutSeconds: Double
  /// By operation (`"synchronize()"`), in seconds.
  public let longestWaitSeconds: [String: Double]
  public let stalled: Bool

  /// "stall watchdog: timeout 2 s; longest waits: barrier() 0.012 s, synchronize() ..."
  var text: String {
    let waits = longestWaitSeconds.sorted { $0.key < $1.key }.map {
      "\($0.key) " + String(format: "%.3f s", $0.value)
    }
    return String(format: "  stall watchdog: timeout %g s; longest waits: ", timeoutSeconds)
      + (waits.isEmpty ? "none" : waits.joined(separator: ", "))
  }
}
