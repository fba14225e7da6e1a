import Glibc
import HostSupport
import RCU
import Synchronization

extension StallWatchdog {
  /// Waits for every thread of `groups` (each a role, `"vCPU"`, and its threads) to finish,
  /// once they have been told to stop, and joins them. Gives up on the ones still running
  /// when a stall has been reported (after a moment for the others), or when they have not
  /// finished within twice the timeout (a `stall` naming them: a thread that waits somewhere
  /// the watchdog does not watch; one that waits where it watches is reported within one
  /// timeout of the wait's start). Returns false when it abandoned any: the run must then
  /// skip whatever would wait for them (final barriers, final checks), and the process end
  /// with `_exit` (``threadsAbandoned``).
  func join(_ groups: [(role: String, threads: [RunThread])]) -> Bool {
    let all = groups.flatMap { group in
      group.threads.enumerated().map { (name: "\(group.role) \($0.offset)", thread: $0.element) }
    }
    let deadline = monotonicNanoseconds() + 2 * timeoutNanoseconds
    var stallSeen: UInt64?
    while true {
      // Joined as they end (a body that returned may still be ending: see RunThread.join).
      let running = all.filter { !$0.thread.tryJoin() }
      if running.isEmpty { break }
      let now = monotonicNanoseconds()
      if stalled, stallSeen == nil { stallSeen = now }
      let settled = stallSeen.map { now - $0 >= min(timeoutNanoseconds, 200_000_000) } ?? false
      if settled || now >= deadline {
        if !stalled {
          let what =
            running.map(\.name).joined(separator: ", ") + " did not stop within "
            + String(format: "%.2f s", 2 * Double(timeoutNanoseconds) / 1e9)
            + " of the end of the run"
          judge(what, waited: 2 * timeoutNanoseconds, starvation: starvation())
        }
        RunThread.abandoned.store(true, ordering: .relaxed)
        // The others are detached: one that ends later frees itself.
        for entry in running { entry.thread.detach() }
        return false
      }
      usleep(1000)
    }
    return true
  }

  /// Runs `body`, a wait for `operation` made at the end of a run (a final barrier), on a
  /// thread of its own named `thread`, under the watchdog's eye; returns false if it
  /// stalled and was abandoned, so that the caller can skip what depends on it.
  func bounded(
    _ operation: WaitedOperation, thread name: String, _ body: @escaping @Sendable () -> Void
  ) -> Bool {
    let slot = self.slot(name)
    guard
      let helper = try? startThreads(1, named: name, { _ in slot.waiting(for: operation, body) })
    else {
      slot.waiting(for: operation, body)  // No thread to spare: wait here, unbounded.
      return true
    }
    return join([(name, helper)])
  }

  /// The shortest `--stall-timeout`: below this, the watchdog's poll and a loaded machine's
  /// scheduling delays are no longer small beside it.
  public static let shortestTimeout = 0.1
  /// The longest `--stall-timeout`: one hour.
  public static let longestTimeout = 3600.0

  /// Checks `--stall-timeout` (seconds).
  public static func checkTimeout(_ seconds: Double) throws(OptionError) {
    guard seconds.isFinite, (shortestTimeout...longestTimeout).contains(seconds) else {
      throw OptionError(
        "--stall-timeout must be between \(shortestTimeout) and \(Int(longestTimeout)) seconds, "
          + "not \(seconds)")
    }
  }
}
