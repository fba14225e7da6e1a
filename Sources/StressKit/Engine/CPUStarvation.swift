import Glibc
import HostSupport

/// The scheduler's account of this process's threads (`/proc/self/task/*/schedstat`: time
/// on a CPU, time runnable but waiting for one), taken at one moment.
///
/// It lets the stall watchdog tell a wait that makes no progress because something is
/// stuck from one that makes none because the machine gives the run's threads no CPU: with
/// two CPU hogs beside a run whose vCPU threads run at nice 10, a QSBR grace period waited
/// 3.2 s for vCPUs that were runnable all along (a `stall` there was a false alarm). A
/// thread stuck inside a section, by contrast, is either asleep (not waiting for a CPU) or
/// spinning on one (running).
struct CPUStarvation: Sendable {
  /// One thread's totals, in nanoseconds.
  struct Account: Sendable, Equatable {
    var running: UInt64
    var waiting: UInt64
  }

  /// When the snapshot was taken (monotonic nanoseconds).
  let at: UInt64
  /// By thread id.
  let threads: [Int32: Account]
  /// The machine's busy CPU time until then (``machineBusyNanoseconds()``), if known.
  var machineBusy: UInt64? = nil

  /// A snapshot of every thread of this process now; empty when the kernel keeps no such
  /// account (then nothing is ever judged starved, and stalls are reported as before).
  static func now() -> CPUStarvation {
    let at = monotonicNanoseconds()
    let machineBusy = machineBusyNanoseconds()
    var threads: [Int32: Account] = [:]
    guard let directory = opendir("/proc/self/task") else {
      return CPUStarvation(at: at, threads: [:], machineBusy: machineBusy)
    }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
      // Read up to the name's NUL only: an entry may be shorter than the 256-byte array
      // (copying the whole array overread the heap under AddressSanitizer).
      let name = withUnsafePointer(to: &entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 1) { String(cString: $0) }
      }
      guard let id = Int32(name), let account = account(of: name) else { continue }
      threads[id] = account
    }
    return CPUStarvation(at: at, threads: threads, machineBusy: machineBusy)
  }

  /// A thread is starved over a window when it spent at least half of it runnable but
  /// waiting for a CPU and at most a tenth of it running: the scheduler, not the thread,
  /// kept it from going on.
  static func isStarved(from old: Account, to new: Account, window: UInt64) -> Bool {
    guard window > 0, new.waiting >= old.waiting, new.running >= old.running else { return false }
    return 2 * (new.waiting - old.waiting) >= window && 10 * (new.running - old.running) <= window
  }

  /// The threads present in both snapshots that were starved between them, and how many
  /// threads both held.
  func starved(since earlier: CPUStarvation) -> (starved: Int, threads: Int) {
    guard at > earlier.at else { return (0, 0) }
    let window = at - earlier.at
    var starved = 0
    var both = 0
    for (id, new) in threads {
      guard let old = earlier.threads[id] else { continue }
      both += 1
      if Self.isStarved(from: old, to: new, window: window) { starved += 1 }
    }
    return (starved, both)
  }

  /// "3 of 41 threads starved of CPU over the last 1.00 s (runnable over half of it,
  /// running under a tenth)", or else the machine's saturation described
  /// (``describeSaturation(since:)``) when `saturationCounts`; nil when neither holds.
  func describeStarvation(since earlier: CPUStarvation, saturationCounts: Bool = false)
    -> String?
  {
    let (starved, threads) = starved(since: earlier)
    guard starved > 0 else { return saturationCounts ? describeSaturation(since: earlier) : nil }
    return "\(starved) of \(threads) threads starved of CPU over the last "
      + String(format: "%.2f s", Double(at &- earlier.at) / 1e9)
      + " (runnable over half of it, running under a tenth)"
  }

  /// `/proc/self/task/<name>/schedstat`: "running waiting timeslices", in nanoseconds.
  private static func account(of name: String) -> Account? {
    // nil also when the thread ended since readdir.
    guard let fields = procFirstLineNumbers("/proc/self/task/\(name)/schedstat"),
      fields.count >= 2, let running = fields[0], let waiting = fields[1]
    else { return nil }
    return Account(running: running, waiting: waiting)
  }
}
