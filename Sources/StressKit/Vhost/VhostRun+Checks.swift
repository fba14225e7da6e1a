import ConcurrentBus
import Foundation
import KVMGuests
import VhostUser

extension VhostRun {
  /// After a round: a guest that halted on a request past the kick bound is given as long
  /// again, with no kick from anyone; what the rings and the interrupt slot then show says
  /// which it was: late (completed and told), a lost call (completed, never told) or a lost
  /// kick (never completed).
  func resolveStalls() -> [StalledRequest] {
    var stalled: [StalledRequest] = []
    for (vcpu, layout) in setup.guest.layouts.enumerated() {
      guard let timedOut = try? setup.guest.load(layout.timedOut), timedOut != 0 else { continue }
      let type = (try? setup.guest.load(layout.timedOutType)) ?? 0
      let name =
        [
          VirtioBlock.requestOut: "write", VirtioBlock.requestIn: "read",
          VirtioBlock.requestFlush: "flush",
        ][type] ?? "type \(type)"
      let what = "vCPU \(vcpu): the \(name) request of operation \(timedOut - 1)"
      let deadline = ContinuousClock.now + configuration.kickBound
      var told = false
      var completed = false
      repeat {
        let available = UInt16(
          truncatingIfNeeded: setup.memory.load32(layout.availableIndex) ?? 0)
        // Atomic loads: the call thread may be writing the slot right now.
        let slot = UInt16(truncatingIfNeeded: setup.memory.load32(layout.interruptSlot) ?? 0)
        completed = setup.memory.load16(layout.queue.usedIndex) == available
        told = slot == available
        if told { break }
        usleep(1000)
      } while ContinuousClock.now < deadline
      let bound = "\(Int(configuration.kickBound.seconds * 1000)) ms"
      if told {
        stalled.append(.late("\(what) completed, but later than \(bound) after its kick"))
      } else if completed {
        stalled.append(
          .callLost(
            "\(what) completed on the used ring, but the guest was not told within twice \(bound)"))
      } else {
        stalled.append(.kickLost("\(what) was kicked and not completed within twice \(bound)"))
      }
    }
    return stalled
  }

  /// The end-of-run checks and the report.
  func finish(rounds: Rounds, handlers: [VhostExitHandler<Flavor>]) -> VhostReport {
    let backendAlive = setup.daemon.isRunning
    var late: [String] = []
    for stall in rounds.stalled {
      switch stall {
      case .late(let what): late.append(what)
      case .kickLost(let what) where backendAlive: violations.record(.lostKick, what)
      case .callLost(let what): violations.record(.lostCall, what)
      case .kickLost: break  // a dead back end completes nothing: inconclusive below
      }
    }
    let layouts = setup.guest.layouts
    var completed = 0
    for (vcpu, layout) in layouts.enumerated() {
      let errors = (try? setup.guest.load(layout.errorCount)) ?? 0
      if errors > 0 {
        let last = (try? setup.guest.load(layout.lastError)) ?? 0
        let kind = BlockGuestError(rawValue: last >> 24).map { "\($0)" } ?? "code \(last >> 24)"
        violations.record(
          .requestCompletion,
          "vCPU \(vcpu): \(errors) wrong completion(s), the last \(kind) in operation \(last & 0xFF_FFFF)"
        )
      }
      completed += Int((try? setup.guest.load(layout.completedRequests)) ?? 0)
    }
    let statistics = device.statistics
    let unclaimed = handlers.map(\.unclaimedKicks).reduce(0, +)
    if statistics.kicksWithoutNotifier + unclaimed > 0 {
      violations.record(
        .kickUnclaimed,
        "\(statistics.kicksWithoutNotifier) kick(s) reached the register window and \(unclaimed) found nothing on the bus: no notifier was registered for them"
      )
    }
    for problem in interrupts.violations { violations.record(.vhostProtocol, problem) }
    if statistics.failures > 0, backendAlive {
      violations.record(
        .vhostProtocol,
        "\(statistics.failures) queue operation(s) from the guest failed, first: \(statistics.firstFailure ?? "?")"
      )
    }
    let stalledAny = !rounds.stalled.isEmpty
    if !stalledAny && rounds.failure == nil {
      checkCompletions(layouts)
    }
    let imageChecked = !stalledAny && rounds.failure == nil && backendAlive ? checkImage() : 0
    return report(
      rounds: rounds, completed: completed, busKicks: handlers.map(\.busKicks).reduce(0, +),
      statistics: statistics, imageBytes: imageChecked, late: late, backendAlive: backendAlive)
  }

  /// Every completion the guests counted came through the used ring exactly once.
  private func checkCompletions(_ layouts: [BlockGuestLayout]) {
    let taken = interrupts.completions
    for (queue, layout) in layouts.enumerated() {
      let guest = Int((try? setup.guest.load(layout.completedRequests)) ?? 0)
      if taken[queue] != guest {
        violations.record(
          .requestCompletion,
          "queue \(queue): the used ring delivered \(taken[queue]) completion(s), the guest completed \(guest)"
        )
      }
    }
  }

  /// The image equals the model: each request slot of each vCPU's region holds the pattern
  /// of the last operation that wrote it, or zeros. Returns the bytes compared.
  private func checkImage() -> Int {
    var checked = 0
    for (vcpu, program) in setup.guest.programs.enumerated() {
      let layout = setup.guest.layouts[vcpu]
      let operations = (try? setup.guest.load(layout.operation)) ?? 0
      let start = Int(program.sector(operation: 0)) * VirtioBlock.sectorSize
      guard let image = setup.daemon.readImage(offset: start, count: program.regionBytes),
        image.count == program.regionBytes
      else {
        violations.record(.imageMismatch, "vCPU \(vcpu): the image could not be read back")
        continue
      }
      var wrong = 0
      var example: String?
      for slot in 0..<program.regionRequests {
        let last = (0..<operations).reversed().first {
          Int($0) & (program.regionRequests - 1) == slot
        }
        let expected =
          last.map { program.pattern(operation: $0) }
          ?? [UInt8](repeating: 0, count: program.requestBytes)
        let offset = slot * program.requestBytes
        if Array(image[offset..<(offset + program.requestBytes)]) != expected {
          wrong += 1
          example =
            example
            ?? "vCPU \(vcpu) slot \(slot): expected operation \(last.map(String.init) ?? "none")'s pattern"
        }
        checked += program.requestBytes
      }
      if wrong > 0 {
        violations.record(.imageMismatch, "\(wrong) request slot(s) differ, e.g. \(example!)")
      }
    }
    return checked
  }
}
