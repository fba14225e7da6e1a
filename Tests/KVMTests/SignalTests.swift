import CKVM
import Glibc
import HostSupport
import KVM
import KVMGuests
import RCU
import Synchronization
import Testing

extension KVMTests {
  @Test func signalsInterruptingKVMRunAreRetriedWithoutLosingAccesses() throws {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in }
    sigemptyset(&action.sa_mask)
    sigaction(SIGUSR1, &action, nil)

    let program = GuestProgram(
      iterations: 20_000,
      accesses: [
        .portWrite(port: 0x3F8, size: 1, values: [1, 2]),
        .mmioWrite(address: Self.mmioBase, size: 4, values: [3]),
      ])
    let run = try GuestRun(system: system(), programs: [program])
    let vcpu = run.vcpus[0]
    try vcpu.configureFlatProtectedMode(entry: run.assembled[0].codeAddress)
    let handler = RecordingHandler()
    // The vCPU thread's id while it may still be signalled; cleared under the lock
    // before the thread ends, so a signal never targets an exited thread.
    let target = Mutex<pthread_t?>(nil)
    let outcome = Mutex<Result<RunStatistics, KVMError>?>(nil)
    let runner = try HostThread {
      // Threads inherit their creator's mask, and Swift's test workers block SIGUSR1.
      var mask = sigset_t()
      sigemptyset(&mask)
      sigaddset(&mask, SIGUSR1)
      pthread_sigmask(SIG_UNBLOCK, &mask, nil)
      target.withAnnotatedLock(owner: handler) { $0 = pthread_self() }
      let result = Result { () throws(KVMError) in try vcpu.run(handler: handler) }
      target.withAnnotatedLock(owner: handler) { $0 = nil }
      outcome.withAnnotatedLock(owner: handler) { $0 = result }
    }
    var signalsSent = 0
    while outcome.withAnnotatedLock(owner: handler, { $0 == nil }) {
      target.withAnnotatedLock(owner: handler) { thread in
        if let thread {
          pthread_kill(thread, SIGUSR1)
          signalsSent += 1
        }
      }
      usleep(200)
    }
    runner.join()
    let statistics = try #require(outcome.withAnnotatedLock(owner: handler) { $0 }).get()
    #expect(handler.writes.withLock { $0 } == program.expectedWrites())
    #expect(statistics.interruptedRuns > 0, "\(signalsSent) signals sent")
  }
}
