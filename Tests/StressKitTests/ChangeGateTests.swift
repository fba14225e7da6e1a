import Glibc
import Synchronization
import Testing

@testable import StressKit

/// The change gate as a specification: never more threads inside than its limit, and a
/// thread waiting for a turn leaves once the run is told to stop.
@Suite("Change gate")
struct ChangeGateTests {
  @Test("eight threads through a gate of two: never more than two inside, every turn taken")
  func neverMoreThanTheLimitInside() throws {
    let gate = ChangeGate(limit: 2)
    let stop = StopFlag()
    let inside = Atomic<Int>(0)
    let mostInside = Atomic<Int>(0)
    let turns = Atomic<Int>(0)
    let threads = try startThreads(8, named: "gate") { _ in
      for _ in 0..<200 {
        guard gate.enter(unless: stop) else { return }
        let now = inside.add(1, ordering: .relaxed).newValue
        mostInside.max(now, ordering: .relaxed)
        sched_yield()  // Gives the others a chance to crowd in.
        inside.subtract(1, ordering: .relaxed)
        turns.add(1, ordering: .relaxed)
        gate.leave()
      }
    }
    for thread in threads { thread.join() }
    #expect((1...2).contains(mostInside.load(ordering: .relaxed)))
    #expect(turns.load(ordering: .relaxed) == 8 * 200)
  }

  @Test("with both turns taken a third thread waits, and enters once one is left")
  func aThirdWaitsForATurn() throws {
    let gate = ChangeGate(limit: 2)
    let stop = StopFlag()
    #expect(gate.enter(unless: stop) && gate.enter(unless: stop))
    let entered = Atomic<Bool>(false)
    let third = try startThreads(1, named: "third") { _ in
      // Releasing: pairs with the acquiring loads below.
      entered.store(gate.enter(unless: stop), ordering: .releasing)
    }
    usleep(50_000)  // However long it waited, it must not be in.
    let enteredEarly = entered.load(ordering: .acquiring)
    #expect(!enteredEarly)
    gate.leave()
    for thread in third { thread.join() }
    let enteredAfter = entered.load(ordering: .acquiring)
    #expect(enteredAfter)
    gate.leave()  // Every turn is left before the gate goes: libdispatch traps otherwise.
    gate.leave()
  }

  @Test("a thread waiting for a turn gives up, without one, once stop is raised")
  func aWaiterLeavesOnStop() throws {
    let gate = ChangeGate(limit: 1)
    let stop = StopFlag()
    #expect(gate.enter(unless: stop))  // The one turn, never left.
    let gotTurn = Atomic<Int>(-1)
    let waiter = try startThreads(1, named: "waiter") { _ in
      gotTurn.store(gate.enter(unless: stop) ? 1 : 0, ordering: .relaxed)
    }
    stop.set()
    for thread in waiter { thread.join() }
    #expect(gotTurn.load(ordering: .relaxed) == 0)
    gate.leave()
    #expect(gate.enter(unless: StopFlag()))  // The turn left is there for the next.
    gate.leave()
  }
}
