import ConcurrentBus
import Glibc
import HostSupport
import KVM
import KVMGuests
import Synchronization
import Testing

/// Records the order of thread hooks and accesses, and on which thread each came.
private final class HookRecorder: GuestIOHandler {
  enum Event: Equatable {
    case begin, enter, exit, access, end
  }

  let events = Mutex<[(event: Event, thread: pthread_t)]>([])

  private func note(_ event: Event) { events.withLock { $0.append((event, pthread_self())) } }

  func portWrite(port: UInt16, size: Int, value: UInt64) { note(.access) }
  func portRead(port: UInt16, size: Int) -> UInt64 {
    note(.access)
    return 0
  }
  func mmioWrite(address: UInt64, size: Int, value: UInt64) { note(.access) }
  func mmioRead(address: UInt64, size: Int) -> UInt64 {
    note(.access)
    return 0
  }
  func beginDispatching() { note(.begin) }
  func willEnterGuest() { note(.enter) }
  func didExitGuest() { note(.exit) }
  func endDispatching() { note(.end) }
}

@Suite(
  "vCPU thread hooks",
  .serialized,
  .enabled(
    if: kvmUnavailableReason == nil, Comment(rawValue: kvmUnavailableReason ?? "needs /dev/kvm"))
)
struct ThreadHookTests {
  @Test func hooksBracketTheRunAndEveryKVMRun() throws {
    let program = GuestProgram(
      iterations: 50,
      accesses: [
        .portWrite(port: 0x700, size: 1, values: [1]),
        .mmioRead(address: 0xD000_0000, size: 4),
      ])
    let run = try GuestRun(system: system(), programs: [program])
    let recorder = HookRecorder()
    let statistics = try run.run(handler: recorder)[0]
    let events = recorder.events.withLock { $0 }
    #expect(Set(events.map { UInt($0.thread) }).count == 1, "every hook on the vCPU thread")
    let kinds = events.map(\.event)
    var expected: [HookRecorder.Event] = [.begin]
    for _ in 0..<50 { expected += [.enter, .exit, .access, .enter, .exit, .access] }
    expected += [.enter, .exit, .end]  // the final hlt
    #expect(kinds == expected)
    #expect(statistics.exits == 101)
  }

  @Test func aBusExitHandlerIsOnlineExactlyWhileItDispatches() throws {
    let mmio: UInt64 = 0xD000_0000
    let program = GuestProgram(
      iterations: 2_000,
      accesses: [
        .portWrite(port: 0x700, size: 4, values: [7]),
        .mmioWrite(address: mmio, size: 4, values: [8]),
        .mmioRead(address: mmio, size: 4),
      ])
    let run = try GuestRun(system: system(), programs: [program])
    let portBus = IOBus(flavor: OnlineCheckedRCU.self)
    let mmioBus = IOBus(flavor: OnlineCheckedRCU.self)
    let before = OnlineCheckedRCU.withBook { $0 }
    let handler = BusExitHandler(portBus: portBus, mmioBus: mmioBus)
    _ = try run.run(handlers: [handler])
    let after = OnlineCheckedRCU.withBook { $0 }
    #expect(after.reads - before.reads == 6_000)
    #expect(after.unprotectedReads == before.unprotectedReads)
    #expect(after.wentOffline - before.wentOffline == 6_001)
    #expect(after.threads.count == before.threads.count, "the vCPU thread unregistered at the end")
  }

  @Test func everyDrainOfTheCoalescedRingReadsOnline() throws {
    let limit = try system().recommendedVCPUCount()
    let before = OnlineCheckedRCU.withBook { $0 }
    let report = try coalescedChurn(
      flavor: OnlineCheckedRCU.self, vcpus: min(2, limit), iterations: 20_000, seed: 11)
    let after = OnlineCheckedRCU.withBook { $0 }
    #expect(report.violations == [])
    #expect(report.appliedOffVCPU > 0, "unregisters drained off the vCPU threads")
    #expect(after.reads > before.reads)
    #expect(after.unprotectedReads == before.unprotectedReads)
    #expect(after.threads.count == before.threads.count)
  }

  @Test func aVCPUInTheGuestIsRegisteredAndOffline() throws {
    // A loop with no access keeps the vCPU in KVM_RUN, in the guest, until hlt. Guest speed
    // differs by orders of magnitude between machines (~1 us per iteration under nested
    // virtualization here): lengthen the loop until the run lasts for enough samples.
    var iterations = 100_000
    while true {
      let (samples, thread) = try sampleThreadState(spinning: iterations)
      // Online only in the microseconds before the first KVM_RUN and after the last exit:
      // two windows, each of which a sample may hit (a loaded TSan run hit both once).
      let online = samples.filter { $0 == .online }.count
      let offline = samples.filter { $0 == .offline }.count
      guard samples.count >= 20 || iterations > 100_000_000 else {
        iterations *= 10
        continue
      }
      #expect(offline >= 10, "sampled \(samples.count) times")
      #expect(online <= 2, "online in \(online) of \(samples.count) samples taken in the guest")
      #expect(OnlineCheckedRCU.state(of: thread) == nil, "unregistered after the run")
      return
    }
  }

  /// Runs a guest spinning `iterations` times and samples the vCPU thread's state every
  /// 500 us until it halts.
  private func sampleThreadState(spinning iterations: Int) throws -> (
    [OnlineCheckedRCU.ThreadState?], pthread_t
  ) {
    let run = try GuestRun(system: system(), programs: [GuestProgram(iterations: iterations)])
    let vcpu = run.vcpus[0]
    try vcpu.configureFlatProtectedMode(entry: run.assembled[0].codeAddress)
    let handler = BusExitHandler(
      portBus: IOBus(flavor: OnlineCheckedRCU.self), mmioBus: IOBus(flavor: OnlineCheckedRCU.self))
    let thread = Mutex<pthread_t?>(nil)
    let finished = Atomic<Bool>(false)
    let runner = try HostThread {
      thread.withAnnotatedLock(owner: vcpu) { $0 = pthread_self() }
      _ = try? vcpu.run(handler: handler)
      finished.store(true, ordering: .releasing)
    }
    var samples: [OnlineCheckedRCU.ThreadState?] = []
    while !finished.load(ordering: .acquiring) {
      if let id = thread.withAnnotatedLock(owner: vcpu, { $0 }) {
        samples.append(OnlineCheckedRCU.state(of: id))
      }
      usleep(500)
    }
    runner.join()
    return (samples, try #require(thread.withAnnotatedLock(owner: vcpu) { $0 }))
  }
}
