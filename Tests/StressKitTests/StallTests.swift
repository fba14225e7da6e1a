import ConcurrentBus
import Foundation
import RCUFaultFlavors
import Synchronization
import Testing

@testable import StressKit

extension FaultInjectionSuites {
  /// The stall watchdog as a specification: a wait that makes no progress for the timeout
  /// is reported as `stall`, naming the operation, the thread, and the readers inside a
  /// section; the run still ends with its report, leaving the stuck thread behind.
  @Suite("Stalls")
  struct StallTests {
    static func torture(_ kind: RCUFaultKind, every: Int) -> TortureConfiguration {
      TortureConfiguration(
        readers: 2, fakeWriters: 2, duration: 600, fault: .rcu(kind), faultEvery: every,
        seed: 5, minimum: FaultInjectionSuites.TortureTests.testMinimum, stallTimeout: 0.3)
    }

    @Test(
      "a synchronize that never returns is reported as a stall naming it",
      arguments: [RCUFlavorName.memb, .qsbr])
    func stalledSynchronize(flavor: RCUFlavorName) throws {
      var configuration = Self.torture(.stallSynchronize, every: 50)
      configuration.flavor = .shipped(flavor)
      let report = try Torture.run(configuration)
      let stall = try #require(report.violations.first { $0.kind == .stall }, "\(report.text)")
      #expect(stall.examples.contains { $0.contains("synchronize() made no progress") })
      // And where its thread is in the kernel (asleep in the fault's sleep, or running).
      #expect(stall.examples.contains { $0.contains("; its thread: ") })
      #expect(report.verdict == .violations)
      #expect(!report.finalChecksRan)
    }

    @Test("a barrier that never returns is reported as a stall naming it")
    func stalledBarrier() throws {
      let report = try Torture.run(Self.torture(.stallBarrier, every: 3))
      let stall = try #require(report.violations.first { $0.kind == .stall }, "\(report.text)")
      #expect(stall.examples.contains { $0.contains("barrier() made no progress") })
    }

    @Test("a reader that never leaves its section is named in the stall report")
    func stuckReader() throws {
      let report = try Torture.run(Self.torture(.stuckReader, every: 500))
      let stall = try #require(report.violations.first { $0.kind == .stall }, "\(report.text)")
      #expect(stall.examples.contains { $0.contains("inside a read-side section: reader ") })
    }

    @Test("a wait the watchdog watches is reported once it passes the timeout, not before")
    func watchdogReportsALongWait() throws {
      let violations = Violations()
      let watchdog = try StallWatchdog(
        timeout: 0.2, violations: violations, shortfalls: Shortfalls(),
        census: { ["reader 7 since 1.000 s"] })
      defer { watchdog.stop() }
      let slot = watchdog.slot("test thread")
      let release = Atomic<Bool>(false)
      let waiter = try startThreads(1, named: "waiter") { _ in
        slot.waiting(for: .barrier) {
          while !release.load(ordering: .acquiring) { usleep(1000) }  // pairs with the store below
        }
      }
      var polls = 0
      while !watchdog.stalled && polls < 10_000 {
        polls += 1
        usleep(1000)
      }
      release.store(true, ordering: .releasing)  // pairs with the waiter's load
      for thread in waiter { thread.join() }
      let stall = try #require(violations.summary.first { $0.kind == .stall })
      #expect(stall.count == 1)
      #expect(stall.examples[0].hasPrefix("test thread: barrier() made no progress for"))
      #expect(stall.examples[0].hasSuffix("inside a read-side section: reader 7 since 1.000 s"))
      #expect(watchdog.summary.longestWaitSeconds["barrier()"]! >= 0.2)
    }

    @Test("a thread that does not stop after the run is abandoned and reported, not joined")
    func joinGivesUp() throws {
      let violations = Violations()
      let shortfalls = Shortfalls()
      let watchdog = try StallWatchdog(
        timeout: 0.1, violations: violations, shortfalls: shortfalls)
      defer { watchdog.stop() }
      let release = Atomic<Bool>(false)
      let stuck = try startThreads(1, named: "stuck") { _ in
        while !release.load(ordering: .acquiring) { usleep(1000) }  // pairs with the store below
      }
      #expect(!watchdog.join([("stuck", stuck)]))
      release.store(true, ordering: .releasing)  // pairs with the thread's load
      // A stall; or, when the process's threads were starved of CPU meanwhile (the suite's
      // other tests beside two CPU hogs), a threads shortfall saying it was not judged one.
      let stall = violations.summary.first { $0.kind == .stall }
      let starved = shortfalls.summary.first { $0.kind == .threads }
      #expect((stall == nil) != (starved == nil))
      let report = try #require(stall?.examples[0] ?? starved?.examples[0])
      #expect(report.hasPrefix("stuck 0 did not stop within"))
      #expect(stall != nil || report.contains("not judged a stall: "))
      #expect(StallWatchdog.threadsAbandoned)
    }

    @Test("churn reports a synchronous unregister whose grace period never ends")
    func churnStall() throws {
      var configuration = ChurnConfiguration(vcpus: 2, duration: 600, rings: 0, seed: 2)
      configuration.stallTimeout = 0.3
      let report = try RCUFaultInjection.with(RCUFault(.stallSynchronize, every: 20)) {
        try ChurnRun<FaultyRCU<MembRCU>>(configuration).run()
      }
      let stall = try #require(report.violations.first { $0.kind == .stall }, "\(report.text)")
      #expect(stall.examples.contains { $0.contains("a synchronous unregister") })
    }
  }
}
