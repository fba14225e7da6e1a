import ConcurrentBus
import Foundation
import VhostUser

/// The result of `stress vhost`, printed and written with `--json`.
public struct VhostReport: CheckReport, Codable, Sendable {
  /// `vhost`.
  public let command: String
  /// The configuration run.
  public let configuration: VhostConfiguration
  /// Why nothing could be judged (the back end missing or gone), if so.
  public let backendProblem: String?
  /// Guest rounds run.
  public let rounds: Int
  /// Requests the guests completed (writes, reads, flushes).
  public let requests: Int
  /// Requests per second of guest time.
  public let requestsPerSecond: Double
  /// Request latency from kick to interrupt, as the guests measured it.
  public let latency: LatencySummary?
  /// Kick switches the hotplug thread made.
  public let kickSwitches: Int
  /// The same, per second of guest time.
  public let kickSwitchesPerSecond: Double
  /// Every notifier switch per second: the hotplug thread's kick switches plus the guests'
  /// queue stops and starts (a notifier unbound, a new one bound) and notify moves.
  public let notifierSwitchesPerSecond: Double
  /// Queue operations over the run: starts/stops (the guests' own), moves, re-notified
  /// kicks (found on an old eventfd after a switch and passed on).
  public let queues: QueueStatistics
  /// Kicks that exited and were served by a notifier registration on the bus (every kick
  /// that lands while KVM's ioeventfd is being switched, or every kick without it).
  public let kicksServedByBus: Int
  /// What the device saw: call signals, kicks without a notifier, failed operations.
  public let device: DeviceStatistics?
  /// Interrupts dropped by `--fault lose-call`.
  public let droppedCalls: Int
  /// Bytes of the image compared with the model at the end.
  public let imageBytesChecked: Int
  /// Seconds the guests ran.
  public let guestSeconds: Double
  /// Clean, violations or inconclusive.
  public let verdict: Verdict
  /// The minimums and what the run reached.
  public let work: [WorkMeasure]
  /// What broke, by kind.
  public let violations: [ViolationSummary]

  /// A run that could not start or finish for want of a back end: inconclusive, saying why.
  init(configuration: VhostConfiguration, backendUnavailable reason: String) {
    command = "vhost"
    self.configuration = configuration
    backendProblem = reason
    (rounds, requests, requestsPerSecond, latency) = (0, 0, 0, nil)
    (kickSwitches, kickSwitchesPerSecond, queues, kicksServedByBus) = (0, 0, QueueStatistics(), 0)
    notifierSwitchesPerSecond = 0
    (device, droppedCalls, imageBytesChecked, guestSeconds) = (nil, 0, 0, 0)
    work = [WorkMeasure("back end available (\(reason))", done: 0, required: 1)]
    violations = []
    verdict = Verdict(work: work, violations: violations)
  }

  init(
    configuration: VhostConfiguration, rounds: Int, requests: Int, guestSeconds: Double,
    latency: LatencySummary, kickSwitches: Int, queues: QueueStatistics, kicksServedByBus: Int,
    device: DeviceStatistics, droppedCalls: Int, imageBytesChecked: Int, work: [WorkMeasure],
    violations: [ViolationSummary]
  ) {
    command = "vhost"
    self.configuration = configuration
    backendProblem = nil
    self.rounds = rounds
    self.requests = requests
    self.guestSeconds = guestSeconds
    requestsPerSecond = guestSeconds > 0 ? Double(requests) / guestSeconds : 0
    self.latency = latency
    self.kickSwitches = kickSwitches
    kickSwitchesPerSecond = guestSeconds > 0 ? Double(kickSwitches) / guestSeconds : 0
    let guestSwitches = queues.stops + queues.starts + queues.moves
    notifierSwitchesPerSecond =
      guestSeconds > 0 ? Double(kickSwitches + guestSwitches) / guestSeconds : 0
    self.queues = queues
    self.kicksServedByBus = kicksServedByBus
    self.device = device
    self.droppedCalls = droppedCalls
    self.imageBytesChecked = imageBytesChecked
    self.work = work
    self.violations = violations
    verdict = Verdict(work: work, violations: violations)
  }

  public var text: String {
    var lines = [
      "stress vhost: \(configuration.vcpus) vCPU(s), one virtio-blk queue each, served by qemu-storage-daemon; kicks on the bus\(configuration.kernelIOEventFD ? " mirrored into KVM_IOEVENTFD" : " alone"); \(configuration.duration.seconds) s, seed \(configuration.seed), fault \(configuration.fault.rawValue)"
    ]
    if let backendProblem {
      lines.append("  back end: \(backendProblem)")
    } else {
      lines += [
        String(
          format: "  requests: %d in %d rounds, %.0f per second of guest time", requests, rounds,
          requestsPerSecond),
        "  latency, kick to interrupt: \(latency?.text ?? "none")",
        String(
          format:
            "  kick switches by the hotplug thread: %d (%.0f/s), %d kick(s) re-notified from an old eventfd",
          kickSwitches, kickSwitchesPerSecond, queues.renotifiedKicks),
        "  guest queue operations (device callbacks): \(queues.stops) stops, \(queues.starts) starts, \(queues.moves) notify moves",
        String(
          format: "  notifier switches, all kinds: %.0f per second", notifierSwitchesPerSecond),
        "  kicks served by the bus (exits while KVM's ioeventfd switched, or every kick on the bus alone): \(kicksServedByBus)",
        "  call signals: \(device?.callSignals ?? 0), interrupts dropped by the fault: \(droppedCalls); image bytes checked: \(imageBytesChecked)",
      ]
    }
    return (lines + outcome.lines).joined(separator: "\n")
  }
}

extension VhostRun {
  /// The least work after which "no violation" means something, and the report.
  func report(
    rounds: Rounds, completed: Int, busKicks: Int, statistics: DeviceStatistics, imageBytes: Int,
    late: [String], backendAlive: Bool
  ) -> VhostReport {
    var queues = QueueStatistics()
    for queue in device.queues {
      let each = queue.statistics
      queues.starts += each.starts
      queues.stops += each.stops
      queues.kickSwitches += each.kickSwitches
      queues.renotifiedKicks += each.renotifiedKicks
      queues.moves += each.moves
    }
    let switches = hotplugSwitches.load(ordering: .relaxed)
    var work = [
      WorkMeasure("back end alive to the end", done: backendAlive ? 1 : 0, required: 1),
      WorkMeasure("requests completed", done: UInt64(completed), required: 500),
      WorkMeasure(
        "requests within the kick bound\(late.isEmpty ? "" : " (\(late[0]))")",
        done: late.isEmpty ? 1 : 0, required: 1),
      WorkMeasure("image bytes compared", done: UInt64(imageBytes), required: 1),
    ]
    if configuration.switchesPerSecond > 0 {
      work.append(WorkMeasure("kick switches", done: UInt64(switches), required: 100))
    }
    if configuration.guestChurnEvery > 0 {
      work.append(WorkMeasure("guest queue restarts", done: UInt64(queues.stops), required: 10))
      work.append(WorkMeasure("guest notify moves", done: UInt64(queues.moves), required: 10))
    }
    let histogram = latencies.withAnnotatedLock(owner: self) { $0 }
    return VhostReport(
      configuration: configuration, rounds: rounds.count, requests: completed,
      guestSeconds: rounds.guestTime.seconds, latency: LatencySummary(histogram),
      kickSwitches: switches, queues: queues, kicksServedByBus: busKicks, device: statistics,
      droppedCalls: interrupts.droppedDeliveries, imageBytesChecked: imageBytes, work: work,
      violations: violations.summary)
  }
}
