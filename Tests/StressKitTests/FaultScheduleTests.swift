import Synchronization
import Testing

@testable import StressKit

/// A replayed run makes the same choices: the hotplug threads' plans, and the removals
/// whose grace period the `skip-grace-period` fault skips, are a function of the seed and
/// the rate alone, never of a clock or of how fast the machine is.
@Suite("Fault schedule")
struct FaultScheduleTests {
  /// Records every update and release a hotplug thread asks for, and raises `stop` after
  /// `limit` updates, so that two runs are compared over the same number of decisions.
  final class RecordingTarget: HotplugTarget {
    struct Plug: HotplugPlug { let slot: Int }

    let slotCount = 8
    var supportsBatches: Bool { true }
    var supportsDeferredRemovals: Bool { true }
    var supportsMoves: Bool { true }
    let log = Mutex<[String]>([])
    let stop: StopFlag
    let limit: Int

    init(stop: StopFlag, limit: Int) {
      self.stop = stop
      self.limit = limit
    }

    private func note(_ entry: String) {
      log.withLock { log in
        log.append(entry)
        if log.count >= limit { stop.set() }
      }
    }

    func update(adding: [Int], removing: [Plug], batched: Bool, wait: RemovalWait) throws
      -> [Plug]
    {
      var how = "synchronous"
      if case .deferred(let release) = wait {
        how = "deferred"
        release()
      }
      note("update +\(adding) -\(removing.map(\.slot)) batched \(batched) \(how)")
      return adding.map(Plug.init)
    }

    func move(_ plugs: [Plug], batched: Bool) throws -> [Plug] {
      note("move \(plugs.map(\.slot)) batched \(batched)")
      return plugs
    }

    func released(_ plug: Plug, when: String) {
      if when.contains("skipped") { note("skipped \(plug.slot)") }
    }
  }

  /// The decisions of one hotplug thread over its first `limit` steps.
  static func schedule(seed: UInt64, skipEvery: Int, limit: Int = 2000) throws -> [String] {
    let stop = StopFlag()
    let target = RecordingTarget(stop: stop, limit: limit)
    let hotplug = Hotplug(
      target: target, threads: 1, sections: SectionEpochs(vcpus: 1), violations: Violations(),
      shortfalls: Shortfalls(), seed: seed, skipEvery: skipEvery)
    for thread in try hotplug.start(until: stop) { thread.join() }
    return Array(target.log.withLock { $0 }.prefix(limit))
  }

  @Test func theSameSeedMakesTheSameChoicesAndSkipsTheSameRemovals() throws {
    let first = try Self.schedule(seed: 3, skipEvery: 10)
    let again = try Self.schedule(seed: 3, skipEvery: 10)
    #expect(first == again)
    #expect(first.count == 2000)
    let other = try Self.schedule(seed: 4, skipEvery: 10)
    #expect(first != other, "the seed decides")
  }

  @Test func theFaultFiresOnEveryNthRemovalOfTheThread() throws {
    let entries = try Self.schedule(seed: 5, skipEvery: 10)
    var removals = 0
    var skippedAt: [Int] = []
    for entry in entries {
      if entry.hasPrefix("update"), !entry.contains("-[]") {
        removals += 1
      } else if entry.hasPrefix("skipped") {
        if skippedAt.last != removals { skippedAt.append(removals) }
      }
    }
    #expect(!skippedAt.isEmpty)
    #expect(skippedAt.allSatisfy { $0 % 10 == 0 }, "\(skippedAt)")
  }
}
