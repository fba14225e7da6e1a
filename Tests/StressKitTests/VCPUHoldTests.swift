import Testing

@testable import StressKit

/// The vCPU hold as a specification: one hold at a time, each vCPU held once per hold and
/// never for good, so a guest always goes on however the holds overlap.
@Suite("vCPU hold")
struct VCPUHoldTests {
  @Test("a second hold while one is on is refused, and taken once the first is released")
  func oneHoldAtATime() {
    let hold = VCPUHold(vcpus: 1)
    #expect(hold.hold(waitingUpTo: 0))
    #expect(!hold.hold(waitingUpTo: 0))
    hold.release()
    #expect(hold.hold(waitingUpTo: 0))
    hold.release()
  }

  @Test("a hold never released holds a vCPU once, for a bounded time, not at every exit")
  func heldOncePerHold() {
    let hold = VCPUHold(vcpus: 1)
    var lastHeld: UInt64 = 0
    hold.waitWhileHeld(lastHeld: &lastHeld)
    #expect(hold.heldExits == 0)
    #expect(hold.hold(waitingUpTo: 0))
    for _ in 0..<100 { hold.waitWhileHeld(lastHeld: &lastHeld) }  // Returns: bounded.
    #expect(hold.heldExits == 1)
    hold.release()
    #expect(hold.hold(waitingUpTo: 0))
    hold.waitWhileHeld(lastHeld: &lastHeld)
    #expect(hold.heldExits == 2)
    hold.release()
  }
}
