import Foundation
import Glibc
import RCU
import Testing

/// The signal flavor's hold on SIGUSR1 (each test in a child process, whose signal
/// handlers no other test touches).
@Suite("SignalRCU")
struct SignalRCUTests {
  @Test("SIGUSR1 is left alone until the signal flavor is first used")
  func takesSIGUSR1OnFirstUse() async {
    await #expect(processExitsWith: .success) {
      let untouchedBefore = sigusr1HasDefaultDisposition()
      SignalRCU.registerCurrentThread()
      let takenAfter = !sigusr1HasDefaultDisposition()
      SignalRCU.unregisterCurrentThread()
      exit(untouchedBefore && takenAfter ? EXIT_SUCCESS : EXIT_FAILURE)
    }
  }

  @Test("a replaced SIGUSR1 handler makes synchronize abort with a message, not hang")
  func replacedHandlerAborts() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      SignalRCU.registerCurrentThread()
      var action = sigaction()
      action.__sigaction_handler.sa_handler = { _ in }
      sigemptyset(&action.sa_mask)
      sigaction(SIGUSR1, &action, nil)
      SignalRCU.synchronize()
    }
    #expect(result.map { errorText($0).contains("SIGUSR1's handler") } == true)
  }
}

/// Whether SIGUSR1 still has its default disposition (SIG_DFL, a null handler).
private func sigusr1HasDefaultDisposition() -> Bool {
  var action = sigaction()
  sigaction(SIGUSR1, nil, &action)
  return action.__sigaction_handler.sa_handler == nil
}
