import Foundation

/// The per-flavor measurements: churn cost, writers under oversubscription, reclamation
/// latency on an idle bus, and membarrier calls.
struct FlavorResults: Codable, Sendable {
  var flavors: [BenchFlavor]
  var churn: [FlavorChurnCell]
  var oversubscription: [OversubscriptionCell]
  var reclamation: [ReclamationCell]
  var membarrier: [MembarrierCount]
}

/// The issue's per-flavor targets, judged on this run.
func judgeFlavorTargets(_ results: FlavorResults, cores: Int) -> [TargetResult] {
  var targets: [TargetResult] = []
  func add(_ name: String, _ value: Double, _ met: Bool, _ figure: String) {
    targets.append(TargetResult(name: name, figure: figure, value: value, met: met))
  }
  func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
  func churn(_ flavor: BenchFlavor, readers: Int) -> FlavorChurnCell? {
    results.churn.first { $0.flavor == flavor && $0.readers == readers }
  }

  if let qsbr = churn(.qsbr, readers: 1) {
    let loss = qsbr.loss.median
    add(
      "1 reader, 64 entries: churn at 1000/s costs qsbr readers <= 3%", loss, loss <= 0.03,
      "\(percent(loss)) lost (median of rounds; memb: "
        + "\(churn(.memb, readers: 1).map { percent($0.loss.median) } ?? "-"))")
  }
  if let qsbr = churn(.qsbr, readers: cores), let memb = churn(.memb, readers: cores) {
    let ratio = qsbr.loss.median / memb.loss.median
    let met = qsbr.loss.median <= memb.loss.median / 2
    add(
      "\(cores) readers on \(cores) cores: churn costs qsbr <= half of memb's loss", ratio, met,
      "qsbr \(percent(qsbr.loss.median)) vs memb \(percent(memb.loss.median)) lost "
        + "(writer \(Int(qsbr.updatesPerSecond.median)) vs \(Int(memb.updatesPerSecond.median)) updates/s)"
    )
  }
  targets += judgeMembarrier(results.membarrier)
  targets += judgeOversubscription(results.oversubscription)
  for cell in results.reclamation {
    let sync = cell.synchronous.median
    let deferred = cell.deferred.median / sync
    let async = cell.async.median / sync
    add(
      "idle bus, \(cell.pace.rawValue), \(cell.flavor.rawValue): deferred and async unregister "
        + "p50 <= 2x synchronous",
      max(deferred, async), max(deferred, async) <= 2,
      String(
        format: "deferred %.2fx, async %.2fx (%.1f, %.1f vs %.1f us)", deferred, async,
        cell.deferred.median / 1000, cell.async.median / 1000, sync / 1000))
  }
  return targets
}

/// No membarrier call during a QSBR churn run; memb's run shows the probe can see them.
private func judgeMembarrier(_ counts: [MembarrierCount]) -> [TargetResult] {
  guard let qsbr = counts.first(where: { $0.flavor == .qsbr }) else { return [] }
  let name = "no membarrier system call during a qsbr churn run"
  guard let calls = qsbr.calls, let updates = qsbr.updates else {
    return [
      TargetResult(
        name: name, figure: "not measured: \(qsbr.unavailableReason ?? "unknown")", value: .nan,
        met: false)
    ]
  }
  let memb = counts.first { $0.flavor == .memb }
  let membCalls = memb?.calls ?? 0
  // A count of 0 means something only if the probe saw memb's calls and qsbr's run made
  // grace periods (at least 100 updates: each waits for or hands over a grace period).
  let enoughWork = updates >= 100
  let met = calls == 0 && membCalls > 0 && enoughWork
  var figure =
    "qsbr \(calls) calls in \(updates) updates; memb \(memb?.calls.map(String.init) ?? "-") "
    + "calls in \(memb?.updates.map(String.init) ?? "-") updates"
  if membCalls == 0 { figure += " (memb made none either: the count proves nothing)" }
  if !enoughWork { figure += " (too few updates for the count to mean anything)" }
  return [TargetResult(name: name, figure: figure, value: Double(calls), met: met)]
}

/// vCPU-like readers, 2 x cores of them: the writer reaches 90% of 1000 updates/s on every
/// flavor. Tight-loop readers are in the figure, for contrast, but not judged.
private func judgeOversubscription(_ cells: [OversubscriptionCell]) -> [TargetResult] {
  let vcpu = cells.filter { $0.behaviour == .vcpuLike }
  guard let first = vcpu.first else { return [] }
  func rates(_ cells: [OversubscriptionCell]) -> String {
    cells.map { "\($0.flavor.rawValue) \(Int($0.updatesPerSecond.median))" }
      .joined(separator: ", ")
  }
  let slowest = vcpu.map(\.updatesPerSecond.median).min()!
  return [
    TargetResult(
      name:
        "\(first.readers) vCPU-like readers on \(first.cores) cores: writer >= 900 of 1000 "
        + "updates/s on every flavor",
      figure:
        "\(rates(vcpu)) /s (tight-loop readers: \(rates(cells.filter { $0.behaviour == .tightLoop })) /s)",
      value: slowest, met: slowest >= 900)
  ]
}
