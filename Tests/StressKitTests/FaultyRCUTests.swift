import Foundation
import HostSupport
import RCU
import RCUFaultFlavors
import Synchronization
import Testing

@testable import StressKit

extension FaultInjectionSuites {
  /// What each fault of `FaultyRCU` does to the flavor it wraps, seen from the wrapped
  /// flavor itself.
  @Suite("FaultyRCU")
  struct FaultyRCUTests {
    typealias Faulty = FaultyRCU<MembRCU>

    @Test("a skipped grace period fires exactly once in N synchronize calls")
    func skipFiresOnceInN() {
      let firings = RCUFaultInjection.with(RCUFault(.skipGracePeriod, every: 4)) {
        for _ in 0..<12 { Faulty.synchronize() }
        return RCUFaultInjection.firings
      }
      #expect(firings == 3)
    }

    @Test("a grace period cut short returns while a reader is still in its section")
    func shortGracePeriodReturnsEarly() throws {
      let entered = Atomic<Bool>(false)
      let (waited, firings) = try RCUFaultInjection.with(
        RCUFault(.shortGracePeriod, afterMicroseconds: 1_000)
      ) {
        let reader = try HostThread {
          Faulty.readLock()
          entered.store(true, ordering: .releasing)
          usleep(300_000)
          Faulty.readUnlock()
        }
        while !entered.load(ordering: .acquiring) { usleep(1_000) }
        let start = Date()
        Faulty.synchronize()
        let waited = Date().timeIntervalSince(start)
        reader.join()
        return (waited, RCUFaultInjection.firings)
      }
      #expect(waited < 0.2)
      #expect(firings == 1)
    }

    @Test("an early callback has run before the deferral returns")
    func earlyCallbackRunsAtOnce() {
      let ran = Atomic<Int>(0)
      RCUFaultInjection.with(RCUFault(.earlyCallback, every: 1)) {
        Faulty.deferUntilGracePeriod { ran.add(1, ordering: .relaxed) }
        #expect(ran.load(ordering: .relaxed) == 1)
        Faulty.barrier()
      }
      #expect(ran.load(ordering: .relaxed) == 1)
    }

    @Test("a lost callback never runs, even after barrier()")
    func lostCallbackNeverRuns() {
      let ran = Atomic<Int>(0)
      RCUFaultInjection.with(RCUFault(.lostCallback, every: 1)) {
        Faulty.deferUntilGracePeriod { ran.add(1, ordering: .relaxed) }
        Faulty.barrier()
      }
      #expect(ran.load(ordering: .relaxed) == 0)
    }

    @Test("a doubled callback has run twice after barrier()")
    func doubledCallbackRunsTwice() {
      let ran = Atomic<Int>(0)
      RCUFaultInjection.with(RCUFault(.doubleCallback, every: 1)) {
        Faulty.deferUntilGracePeriod { ran.add(1, ordering: .relaxed) }
        Faulty.barrier()
      }
      #expect(ran.load(ordering: .relaxed) == 2)
    }

    @Test("an unprotected section is not a section for the wrapped flavor")
    func unprotectedSectionIsInvisible() {
      let seen = RCUFaultInjection.with(RCUFault(.unprotectedSection, every: 2)) {
        var seen: [Bool] = []
        for _ in 0..<4 {
          Faulty.readLock()
          seen.append(MembRCU.isInReadSection)
          Faulty.readUnlock()
        }
        return seen
      }
      #expect(seen == [true, false, true, false])
      #expect(!MembRCU.isInReadSection)
    }

    @Test("a nesting bug ends the outer section at the inner unlock, and stays balanced")
    func nestingBugEndsOuterSection() {
      let seen = RCUFaultInjection.with(RCUFault(.nestingBug, every: 1)) {
        Faulty.readLock()
        Faulty.readLock()
        Faulty.readUnlock()
        let afterInner = MembRCU.isInReadSection
        Faulty.readUnlock()
        let afterOuter = MembRCU.isInReadSection
        Faulty.readLock()
        let nextSection = MembRCU.isInReadSection
        Faulty.readUnlock()
        return [afterInner, afterOuter, nextSection, MembRCU.isInReadSection]
      }
      #expect(seen == [false, false, true, false])
    }
  }
}
