/// The per-flavor sections of the report.
func renderFlavors(_ results: FlavorResults) -> String {
  var out = ""
  func line(_ text: String = "") { out += text + "\n" }

  if !results.churn.isEmpty {
    line()
    line("CHURN COST PER FLAVOR (64 entries, busy readers; Mdisp/s all readers, median of rounds;")
    line("loss = median over rounds of 1 - with/without, each round's pair back to back)")
    line(
      padRight("flavor", 8) + pad("readers", 8) + pad("without", 9) + pad("1000/s", 9)
        + pad("loss", 8) + pad("range", 18) + pad("upd/s", 8) + pad("unreg p50", 11)
        + pad("p99 us", 9))
    for cell in results.churn.sorted(by: {
      ($0.readers, $0.flavor.order) < ($1.readers, $1.flavor.order)
    }) {
      line(
        padRight(cell.flavor.rawValue, 8) + pad("\(cell.readers)", 8)
          + pad(f(cell.quiet.median / 1e6, 1), 9) + pad(f(cell.churned.median / 1e6, 1), 9)
          + pad(f(cell.loss.median * 100, 1) + "%", 8)
          + pad("[\(f(cell.loss.min * 100, 1))..\(f(cell.loss.max * 100, 1))%]", 18)
          + pad(f(cell.updatesPerSecond.median, 0), 8) + pad(micros(cell.unregister.median), 11)
          + pad(micros(cell.unregister.p99), 9))
    }
  }

  if let first = results.oversubscription.first {
    line()
    line(
      "WRITER UNDER OVERSUBSCRIPTION (\(first.readers) readers on \(first.cores) cores, 64 "
        + "entries; writer asks 1000 updates/s,")
    line(
      "half of them synchronous unregisters; vcpu-like = \(VCPUTiming.burst) dispatches, then "
        + "\(VCPUTiming.guestNanos / 1000) us spinning outside any section, offline under qsbr)")
    line(
      padRight("flavor", 8) + padRight(" readers", 12) + pad("upd/s", 7) + pad("range", 14)
        + pad("unreg p50", 11) + pad("p99", 10) + pad("max", 10) + pad("Mdisp/s", 9))
    for cell in results.oversubscription {
      let u = cell.unregister
      line(
        padRight(cell.flavor.rawValue, 8) + padRight(" " + cell.behaviour.rawValue, 12)
          + pad(f(cell.updatesPerSecond.median, 0), 7)
          + pad("[\(f(cell.updatesPerSecond.min, 0))-\(f(cell.updatesPerSecond.max, 0))]", 14)
          + pad(micros(u.median), 11) + pad(micros(u.p99), 10) + pad(micros(u.max), 10)
          + pad(f(cell.readerThroughput.median / 1e6, 1), 9))
    }
  }

  if !results.reclamation.isEmpty {
    line()
    line(
      "RECLAMATION LATENCY, IDLE BUS (no readers; us, p50 / p99; in-a-row: 50 unregisters, "
        + "each waited for before the next;")
    line(
      "cold: each after \(reclamationIdleMicroseconds) us of idle time, every reclaimer thread asleep)"
    )
    line(
      padRight("flavor", 8) + padRight(" pace", 10) + pad("synchronous", 16) + pad("deferred", 16)
        + pad("async", 16)
        + pad("deferred/sync", 15) + pad("async/sync", 12))
    for cell in results.reclamation {
      func both(_ s: SampleSummary) -> String { "\(micros(s.median)) / \(micros(s.p99))" }
      let sync = cell.synchronous.median
      line(
        padRight(cell.flavor.rawValue, 8) + padRight(" " + cell.pace.rawValue, 10)
          + pad(both(cell.synchronous), 16)
          + pad(both(cell.deferred), 16) + pad(both(cell.async), 16)
          + pad(f(cell.deferred.median / sync) + "x", 15)
          + pad(f(cell.async.median / sync) + "x", 12))
    }
    line(
      "(synchronous: until unregister returns; deferred: until the whenReleased closure "
        + "starts; async: until the awaiting task resumes)")
  }

  if !results.membarrier.isEmpty {
    line()
    line("MEMBARRIER SYSTEM CALLS (strace on a churn run: readers on every core, 1000 updates/s)")
    for count in results.membarrier {
      if let calls = count.calls, let updates = count.updates {
        line(
          "  \(padRight(count.flavor.rawValue, 8)) \(calls) calls during \(f(count.seconds, 1)) s, "
            + "\(updates) updates, \(count.readers) readers")
      } else {
        line(
          "  \(padRight(count.flavor.rawValue, 8)) not measured: \(count.unavailableReason ?? "-")")
      }
    }
  }
  return out
}

/// Nanoseconds shown as microseconds.
private func micros(_ nanos: Double) -> String { f(nanos / 1000, 1) }

extension BenchFlavor {
  /// The flavor's place in reports.
  var order: Int { Self.allCases.firstIndex(of: self)! }
}
