import Foundation
import HostSupport

/// One read-side configuration: a design at a table size, thread count and churn.
struct ReadCell: Codable, Sendable {
  var design: Design
  var entries: Int
  var threads: Int
  var churn: Churn
  /// Dispatches per second, all threads together, one sample per round.
  var throughput: Spread
  /// CPU nanoseconds per dispatch, one sample per round.
  var nanosPerDispatch: Spread
  /// Writer updates per second actually achieved.
  var updatesPerSecond: Spread
  /// How many times the floor's throughput (same size and threads, no churn) exceeds this.
  var slowdownVsFloor: Double?
  /// How many times the memb RCU bus's throughput (same configuration) exceeds this.
  var slowdownVsRCU: Double?
  /// Dispatches nobody claimed: must be 0.
  var unclaimed: Int
}

/// A target from the issue, judged on this run.
struct TargetResult: Codable, Sendable {
  var name: String
  var figure: String
  var value: Double
  var met: Bool
}

/// Where and how the run happened.
struct MachineInfo: Codable, Sendable {
  var cores: Int
  var kernel: String
  var date: String
  var quick: Bool
  var secondsPerRun: Double
  var rounds: Int
  /// The 1-minute load average when the run began and when it ended: other work on the
  /// machine skews results.
  var loadAverageAtStart: Double
  var loadAverageAtEnd: Double?
}

/// Everything `stress bench --json` writes.
struct BenchReport: Codable, Sendable {
  var machine: MachineInfo
  /// Empty when the read side was not measured (`--only`); likewise the optional sections.
  var read: [ReadCell]
  var flavors: FlavorResults
  var write: WriteSideResults?
  var eventFD: EventFDResults?
  var ring: RingResults?
  var targets: [TargetResult]
  var totalSeconds: Double
}

extension Array where Element == ReadCell {
  /// The cell for one configuration, if it was measured.
  func cell(_ design: Design, entries: Int, threads: Int, churn: Churn = .none) -> ReadCell? {
    first {
      $0.design == design && $0.entries == entries && $0.threads == threads && $0.churn == churn
    }
  }
}

/// Computes every target of the issue from the measured numbers.
func judgeTargets(read: [ReadCell], write: WriteSideResults?) -> [TargetResult] {
  var targets: [TargetResult] = []
  func add(_ name: String, _ value: Double, _ met: Bool, _ figure: String) {
    targets.append(TargetResult(name: name, figure: figure, value: value, met: met))
  }
  func fmt(_ value: Double) -> String { String(format: "%.2f", value) }

  if let rcu = read.cell(.memb, entries: 64, threads: 1),
    let floor = read.cell(.floor, entries: 64, threads: 1)
  {
    let ratio = rcu.nanosPerDispatch.median / floor.nanosPerDispatch.median
    add(
      "1 thread, 64 entries: RCU bus (memb) <= 1.2x the floor", ratio, ratio <= 1.2,
      "\(fmt(ratio))x (\(fmt(rcu.nanosPerDispatch.median)) vs \(fmt(floor.nanosPerDispatch.median)) ns)"
    )
  }
  if let qsbr = read.cell(.qsbr, entries: 64, threads: 1),
    let floor = read.cell(.floor, entries: 64, threads: 1)
  {
    let ratio = qsbr.nanosPerDispatch.median / floor.nanosPerDispatch.median
    add(
      "1 thread, 64 entries: RCU bus (qsbr) <= 1.02x the floor", ratio, ratio <= 1.02,
      "\(fmt(ratio))x (\(fmt(qsbr.nanosPerDispatch.median)) vs \(fmt(floor.nanosPerDispatch.median)) ns)"
    )
  }
  if let one = read.cell(.memb, entries: 64, threads: 1),
    let two = read.cell(.memb, entries: 64, threads: 2)
  {
    let scaling = two.throughput.median / one.throughput.median
    add(
      "2 threads, 64 entries: RCU bus (memb) >= 1.9x its 1-thread throughput", scaling,
      scaling >= 1.9,
      "\(fmt(scaling))x")
    for other in [Design.rwlock, .swapped] {
      if let cell = read.cell(other, entries: 64, threads: 2) {
        let ratio = two.throughput.median / cell.throughput.median
        add(
          "2 threads, 64 entries: RCU bus (memb) >= 15x \(other.label)", ratio, ratio >= 15,
          "\(fmt(ratio))x")
      }
    }
  }
  if let small = read.cell(.memb, entries: 16, threads: 1),
    let large = read.cell(.memb, entries: 10000, threads: 1)
  {
    let ratio = large.nanosPerDispatch.median / small.nanosPerDispatch.median
    add(
      "1 thread: RCU bus (memb) at 10000 entries <= 2.5x its 16-entry cost", ratio, ratio <= 2.5,
      "\(fmt(ratio))x (\(fmt(large.nanosPerDispatch.median)) vs \(fmt(small.nanosPerDispatch.median)) ns)"
    )
  }
  for threads in [1, 2] {
    if let quiet = read.cell(.memb, entries: 64, threads: threads),
      let churned = read.cell(.memb, entries: 64, threads: threads, churn: .rate1000)
    {
      let loss = 1 - churned.throughput.median / quiet.throughput.median
      add(
        "\(threads) thread(s), 64 entries: churn at 1000/s costs memb readers <= 5%", loss,
        loss <= 0.05, "\(fmt(loss * 100))% lost")
    }
  }
  guard let write else { return targets }
  let batchSpeedup = write.singlesSynchronousNanos.median / write.batchNanos.median
  add(
    "batch of 1000 registrations >= 50x faster than 1000 single synchronous ones",
    batchSpeedup, batchSpeedup >= 50,
    "\(fmt(batchSpeedup))x (\(fmt(write.batchNanos.median / 1e6)) ms vs \(fmt(write.singlesSynchronousNanos.median / 1e6)) ms; vs 1000 plain register calls: \(fmt(write.singlesNanos.median / write.batchNanos.median))x)"
  )
  if let kvm = write.kvmAssign {
    let ratio = write.registerEventFD.median / kvm.median
    add(
      "one registration costs less than one KVM_IOEVENTFD assign", ratio, ratio < 1,
      "\(fmt(write.registerEventFD.median / 1000)) us vs \(fmt(kvm.median / 1000)) us (median)")
  }
  return targets
}
