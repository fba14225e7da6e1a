/// How many dispatches a busy reader makes between two looks at the stop flag, and between
/// two quiescent states under QSBR. 64 dispatches take about 1 us at 64 entries (4 us at
/// 10000): less than liburcu's active wait in a grace period (100 polls, 2-4 us here)
/// before the writer sleeps on a futex, so the writer usually sees the quiescent state while
/// polling and the reader seldom has to wake it (a futex call, an IPI, and often the woken
/// writer preempting the reader on its own CPU). At 256 the QSBR reader lost 1-8% more CPU
/// time per dispatch under 1000 updates/s (measured side by side). Announcing costs a load
/// and a compare while no grace period waits: under 0.02 ns per dispatch.
let dispatchesPerCheck = 64

/// A reader's timed loop, as `behaviour` says: dispatch addresses in order, and
/// - tight loop: check the stop flag (and, under QSBR, announce a quiescent state) every
///   ``dispatchesPerCheck`` dispatches;
/// - vCPU-like: after each burst of ``VCPUTiming/burst`` dispatches, spend guest time spinning
///   outside any read-side section (offline under QSBR). Only its throughput is meaningful:
///   its CPU time includes the guest time.
///
/// Generic so that each design gets its own specialized copy, with the dispatch inlined.
@inline(never)
func readerLoop<Target: ReadTarget>(
  _ target: Target, addresses: UnsafeMutableBufferPointer<UInt64>, control: RunControl,
  behaviour: ReaderBehaviour
) -> ReaderSample {
  ReaderSample.timed(control) { sample in
    var cursor = AddressCursor(addresses)
    switch behaviour {
    case .tightLoop:
      var operations = 0
      var unclaimed = 0
      repeat {
        unclaimed &+= cursor.dispatch(dispatchesPerCheck, to: target)
        operations &+= dispatchesPerCheck
        target.quiescentState()
      } while !control.isStopped
      sample.operations = operations
      sample.unclaimed = unclaimed
    case .vcpuLike:
      repeat {
        sample.unclaimed &+= cursor.dispatch(VCPUTiming.burst, to: target)
        sample.operations &+= VCPUTiming.burst
        target.enterGuest()
        let resume = monotonicNanos() &+ VCPUTiming.guestNanos
        while monotonicNanos() < resume {}
        target.leaveGuest()
      } while !control.isStopped
    }
  }
}
