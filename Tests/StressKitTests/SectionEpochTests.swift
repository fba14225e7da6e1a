import Glibc
import HostSupport
import RCU
import RCUFaultFlavors
import Testing

@testable import StressKit

/// The stale-section check on its own: a vCPU in a section that began before a removal
/// is reported after a grace period that did not wait, whatever it was touching; after a
/// real grace period it never is.
@Suite("Stale-section check")
struct SectionEpochTests {
  @Test func aSectionFromBeforeTheRemovalIsReportedWhenTheGracePeriodDidNotWait() {
    let sections = SectionEpochs(vcpus: 3)
    sections.enter(0, flavor: BrokenRCU.self)  // touching nothing at all
    let removal = sections.beginRemoval()
    sections.enter(1, flavor: BrokenRCU.self)  // began after the removal: not stale
    BrokenRCU.synchronize()
    let check = sections.check(removal: removal)
    #expect(check.stale.map(\.vcpu) == [0])
    #expect(check.stale.first?.epoch == removal - 1)
    #expect(check.occupied == 2)
    sections.leave(0, flavor: BrokenRCU.self)
    sections.leave(1, flavor: BrokenRCU.self)
    #expect(sections.check(removal: removal).occupied == 0)
  }

  @Test func aRealGracePeriodWaitsForTheSectionSoTheCheckFindsNothing() throws {
    let sections = SectionEpochs(vcpus: 1)
    let entered = StopFlag()
    let reader = try startThreads(1, named: "reader") { _ in
      MembRCU.registerCurrentThread()
      defer { MembRCU.unregisterCurrentThread() }
      sections.enter(0, flavor: MembRCU.self)
      entered.set()
      usleep(30_000)
      sections.leave(0, flavor: MembRCU.self)
    }
    while !entered.isSet { usleep(100) }
    let removal = sections.beginRemoval()
    let started = monotonicNanoseconds()
    MembRCU.synchronize()
    let waited = monotonicNanoseconds() - started
    let check = sections.check(removal: removal)
    reader[0].join()
    #expect(waited >= 10_000_000, "the grace period had a section to wait for")
    #expect(check.stale.isEmpty)
  }

  @Test func manyRemovalsUnderBusyReadersNeverFlagACorrectFlavor() throws {
    let sections = SectionEpochs(vcpus: 2)
    let stop = StopFlag()
    let running = [StopFlag(), StopFlag()]
    let readers = try startThreads(2, named: "reader") { vcpu in
      MembRCU.registerCurrentThread()
      defer { MembRCU.unregisterCurrentThread() }
      var random = SplitMix64(seed: UInt64(vcpu + 1))
      running[vcpu].set()
      while !stop.isSet {
        sections.enter(vcpu, flavor: MembRCU.self)
        linger(Int(random.next() % 4096), seed: 1)
        sections.leave(vcpu, flavor: MembRCU.self)
      }
    }
    while !running.allSatisfy(\.isSet) { usleep(100) }
    var seen = 0
    var removals = 0
    // 500 removals that saw a reader inside a section at least once, or 20 s on a loaded
    // machine (where the readers may hardly get a core), whichever comes first.
    let until = monotonicNanoseconds() + 20_000_000_000
    while (removals < 500 || seen == 0) && monotonicNanoseconds() < until {
      let removal = sections.beginRemoval()
      MembRCU.synchronize()
      let check = sections.check(removal: removal)
      #expect(check.stale.isEmpty)
      seen += check.occupied
      removals += 1
    }
    stop.set()
    for reader in readers { reader.join() }
    #expect(removals >= 20)
    #expect(seen > 0, "the check saw readers inside sections")
  }
}
