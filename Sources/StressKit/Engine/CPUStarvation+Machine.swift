import Glibc

/// The machine's side of starvation: CPU time other processes took while this run's
/// threads waited for a CPU.
///
/// Why: a thread can be slowed without ever being starved by the per-thread rule. With two
/// CPU hogs beside `stress kvm --flavor signal` at its heaviest settings, a liburcu-signal
/// grace period took 4.2 s with no reader inside a section: the thread driving it slept a
/// millisecond between signals to the vCPUs and then waited for a CPU each time, runnable
/// under half the window, and the watchdog reported a `stall` (a false alarm). The
/// watchdog lets saturation explain a wait only when no reader is inside a section: a
/// reader stuck in its section is a stall beside CPU hogs too. On an idle machine other
/// processes take next to nothing, so a stuck grace period is a stall at once however busy
/// the run's own threads keep the cores.
extension CPUStarvation {
  /// The CPU time, all cores together, the machine spent on anything but idling or waiting
  /// for I/O (`/proc/stat`: user, nice, system, irq, softirq, steal), in nanoseconds; nil
  /// when it cannot be read.
  static func machineBusyNanoseconds() -> UInt64? {
    // "cpu" first, then the counters.
    guard let fields = procFirstLineNumbers("/proc/stat")?.dropFirst() else { return nil }
    // user nice system idle iowait irq softirq steal (guest time is inside user and nice).
    let counters = Array(fields)
    guard counters.count >= 8, counters.allSatisfy({ $0 != nil }) else { return nil }
    let ticks = [0, 1, 2, 5, 6, 7].reduce(UInt64(0)) { $0 + counters[$1]! }
    let ticksPerSecond = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
    return ticks * (1_000_000_000 / ticksPerSecond)
  }

  /// The machine was saturated over a window when other processes (or the hypervisor,
  /// stealing) used at least a third of its CPU capacity while this process's threads
  /// together waited for a CPU at least as long as they ran: the run wanted CPU the
  /// machine gave elsewhere.
  static func isSaturated(othersUsed: UInt64, capacity: UInt64, waited: UInt64, ran: UInt64)
    -> Bool
  {
    capacity > 0 && waited > 0 && 3 * othersUsed >= capacity && waited >= ran
  }

  /// "the machine was saturated over the last 1.00 s: other processes used 1.21 of its 2
  /// CPUs while this run's threads waited 2.30 s for a CPU and ran 0.95 s"; nil when it was
  /// not (or the machine's account could not be read).
  func describeSaturation(since earlier: CPUStarvation) -> String? {
    guard let busyNow = machineBusy, let busyThen = earlier.machineBusy, busyNow >= busyThen,
      at > earlier.at
    else { return nil }
    var ran: UInt64 = 0
    var waited: UInt64 = 0
    for (id, new) in threads {
      guard let old = earlier.threads[id], new.running >= old.running, new.waiting >= old.waiting
      else { continue }
      ran += new.running - old.running
      waited += new.waiting - old.waiting
    }
    let window = at - earlier.at
    let cores = UInt64(max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1))
    let othersUsed = (busyNow - busyThen) - min(ran, busyNow - busyThen)
    guard
      Self.isSaturated(othersUsed: othersUsed, capacity: window * cores, waited: waited, ran: ran)
    else { return nil }
    return "the machine was saturated over the last "
      + String(format: "%.2f s", Double(window) / 1e9) + ": other processes used "
      + String(format: "%.2f", Double(othersUsed) / Double(window)) + " of its \(cores) CPUs "
      + "while this run's threads waited " + String(format: "%.2f s", Double(waited) / 1e9)
      + " for a CPU and ran " + String(format: "%.2f s", Double(ran) / 1e9)
  }
}
