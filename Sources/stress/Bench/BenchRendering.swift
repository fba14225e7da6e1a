import Foundation
import HostSupport

/// The human-readable report: one table per table size and churn, then the write side,
/// eventfds and the targets.
func renderReport(_ report: BenchReport) -> String {
  var out = report.read.isEmpty ? "" : renderReadSide(report.read)
  out += renderFlavors(report.flavors)
  if let write = report.write { out += renderWriteSide(write) }
  if let eventFD = report.eventFD { out += renderEventFD(eventFD) }
  if let ring = report.ring { out += renderRing(ring) }
  return out + renderTargets(report)
}

/// The read-side tables.
func renderReadSide(_ read: [ReadCell]) -> String {
  var out = ""
  func line(_ text: String = "") { out += text + "\n" }

  line()
  line("READ SIDE: ns/dispatch = CPU time per dispatch (median of rounds);")
  line("Mdisp/s = all threads together (median [min-max]); xA, xB = how many times")
  line("slower than (a) the unsynchronized floor (no churn) and (b) the RCU bus on memb.")
  let sizes = Array(Set(read.map(\.entries))).sorted()
  let threads = Array(Set(read.map(\.threads))).sorted()
  for entries in sizes {
    for churn in Churn.allCases {
      let rows = read.filter { $0.entries == entries && $0.churn == churn }
      guard !rows.isEmpty else { continue }
      line()
      line("\(entries) entries, churn: \(churn.rawValue)")
      line(
        padRight("design", 20) + pad("thr", 4) + pad("ns/disp", 9) + pad("Mdisp/s", 9)
          + pad("range", 16) + pad("xA", 7) + pad("xB", 7)
          + (churn == .none ? "" : pad("upd/s", 9)))
      for design in Design.allCases {
        for count in threads {
          guard let cell = rows.cell(design, entries: entries, threads: count, churn: churn)
          else { continue }
          let tp = cell.throughput
          line(
            padRight(design.label, 20) + pad("\(count)", 4)
              + pad(f(cell.nanosPerDispatch.median), 9) + pad(f(tp.median / 1e6, 1), 9)
              + pad("[\(f(tp.min / 1e6, 1))-\(f(tp.max / 1e6, 1))]", 16)
              + pad(f(cell.slowdownVsFloor), 7) + pad(f(cell.slowdownVsRCU), 7)
              + (churn == .none ? "" : pad(f(cell.updatesPerSecond.median, 0), 9)))
        }
      }
    }
  }

  return out
}

/// The write-side section.
private func renderWriteSide(_ w: WriteSideResults) -> String {
  var out = ""
  func line(_ text: String = "") { out += text + "\n" }
  line()
  line("WRITE SIDE (1000 operations each, on a bus holding \(w.preexisting) entries; us)")
  line(padRight("operation", 44) + pad("median", 9) + pad("mean", 9) + pad("p99", 9))
  func latency(_ name: String, _ s: SampleSummary?) {
    guard let s else { return }
    line(
      padRight(name, 44) + pad(f(s.median / 1000), 9) + pad(f(s.mean / 1000), 9)
        + pad(f(s.p99 / 1000), 9))
  }
  latency("register (deferred reclaim)", w.register)
  latency("register + grace period (synchronous)", w.registerSynchronous)
  latency("unregister, synchronous", w.unregisterSynchronous)
  latency("unregister, deferred", w.unregisterDeferred)
  latency("registerEventFD", w.registerEventFD)
  latency("KVM_IOEVENTFD assign", w.kvmAssign)
  latency("KVM_IOEVENTFD deassign", w.kvmDeassign)
  if let reason = w.kvmUnavailableReason { line("KVM not measured: \(reason)") }
  line(
    "1000 registrations: one batch \(f(w.batchNanos.median / 1e6, 3)) ms; "
      + "1000 single \(f(w.singlesNanos.median / 1e6, 3)) ms; "
      + "1000 single synchronous \(f(w.singlesSynchronousNanos.median / 1e6, 3)) ms")
  return out
}

/// The eventfd section.
private func renderEventFD(_ e: EventFDResults) -> String {
  var out = ""
  func line(_ text: String = "") { out += text + "\n" }
  line()
  line("EVENTFD (1 thread, \(e.registrations) ioeventfd registrations; ns per write)")
  line(
    "bus dispatch \(f(e.busDispatchNanos.median, 1)) [\(f(e.busDispatchNanos.min, 1))-\(f(e.busDispatchNanos.max, 1))]"
      + "   bare eventfd write \(f(e.bareWriteNanos.median, 1)) [\(f(e.bareWriteNanos.min, 1))-\(f(e.bareWriteNanos.max, 1))]"
      + "   overhead \(f(e.busDispatchNanos.median - e.bareWriteNanos.median, 1)) ns")
  return out
}

/// The targets, and how long the run took.
private func renderTargets(_ report: BenchReport) -> String {
  var out = ""
  func line(_ text: String = "") { out += text + "\n" }
  line()
  line("TARGETS")
  for target in report.targets {
    line("  [\(target.met ? "MET   " : "MISSED")] \(target.name): \(target.figure)")
  }
  line()
  line(
    "total \(f(report.totalSeconds, 1)) s; load average \(f(report.machine.loadAverageAtStart)) "
      + "at the start, \(f(report.machine.loadAverageAtEnd)) at the end")
  return out
}

/// Right-aligns `text` in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// Left-aligns `text` in `width` columns.
func padRight(_ text: String, _ width: Int) -> String {
  text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// `value` with `digits` decimals, or "-" when there is none.
func f(_ value: Double?, _ digits: Int = 2) -> String {
  guard let value, value.isFinite else { return "-" }
  return String(format: "%.\(digits)f", value)
}
