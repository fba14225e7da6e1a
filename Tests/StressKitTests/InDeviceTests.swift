import ConcurrentBus
import Glibc
import RCU
import Testing

@testable import StressKit

/// The in-device check on its own: a thread inside a range device when its removal is
/// released is caught when the grace period is skipped, and never after a real one.
@Suite("In-device check", .serialized)
struct InDeviceTests {
  /// A device word that makes `PoisonDevice.write` linger about a millisecond.
  static let longStay: UInt64 = 0x00FF_FF00

  /// Plugs slot 0 with a reader lingering in its range device, then removes it as
  /// `wait` says and runs the release check; returns the kinds recorded.
  static func removeWithAReaderInside(skipGracePeriod: Bool) throws -> Set<ViolationKind> {
    let violations = Violations()
    let bus = IOBus(flavor: MembRCU.self)
    let ledger = try EventLedger<RegistrationID>(
      consumers: 1, violations: violations, shortfalls: Shortfalls())
    let target = ChurnTarget(
      bus: bus, ledger: ledger, violations: violations, slots: 1, fault: .none, dropVictim: nil,
      retiredLimit: 16)
    let plug = try target.update(adding: [0], removing: [], batched: false, wait: .synchronous)[0]
    let stop = StopFlag()
    let reader = try startThreads(1, named: "reader") { _ in
      MembRCU.registerCurrentThread()
      defer { MembRCU.unregisterCurrentThread() }
      while !stop.isSet {
        _ = bus.write(
          address: ChurnLayout.churnRangeBase(0), size: ChurnLayout.accessSize,
          value: Self.longStay)
      }
    }
    while plug.range.occupancy.count == 0 { usleep(50) }
    if skipGracePeriod {
      _ = try target.update(adding: [], removing: [plug], batched: false, wait: .deferred {})
    } else {
      _ = try target.update(adding: [], removing: [plug], batched: false, wait: .synchronous)
    }
    target.released(plug, when: "the test removed it")
    stop.set()
    reader[0].join()
    MembRCU.barrier()
    return Set(violations.summary.map(\.kind))
  }

  @Test func aReaderInsideIsCaughtWhenTheGracePeriodIsSkipped() throws {
    // The reader lingers ~1 ms per entry and the removal takes microseconds, so it is
    // almost always still inside; a few attempts make that certain.
    var caught = 0
    for _ in 0..<10 {
      if try Self.removeWithAReaderInside(skipGracePeriod: true).contains(.insideAtRelease) {
        caught += 1
      }
    }
    #expect(caught >= 5)
  }

  @Test func aRealGracePeriodLetsTheReaderOutFirst() throws {
    for _ in 0..<10 {
      let kinds = try Self.removeWithAReaderInside(skipGracePeriod: false)
      #expect(!kinds.contains(.insideAtRelease))
      #expect(!kinds.contains(.useAfterUnregister))
    }
  }
}
