import Dispatch
import Foundation
import HostSupport
import RCU
import Synchronization
import Testing

/// QSBR's own rules: online threads hold grace periods until they announce a quiescent
/// state or go offline, and every read that would be unprotected aborts loudly.
@Suite("QSBR")
struct QSBRTests {
  @Test("an online thread holds grace periods until it announces quiescent states")
  func onlineThreadHoldsGracePeriods() throws {
    let registered = DispatchSemaphore(value: 0)
    let announce = DispatchSemaphore(value: 0)
    let stop = Atomic<Bool>(false)
    let thread = try HostThread {
      QSBRRCU.registerCurrentThread()
      registered.signal()
      // Blocked while online, on purpose: no quiescent state.
      _ = announce.wait(timeout: .now() + patience)
      // Then a quiescent state every millisecond, as a vCPU thread between exits, never
      // offline: only those can end the wait. (Announcing one and blocking online again
      // could deadlock with a concurrent test whose grace period starts after it.)
      while !stop.load(ordering: .relaxed) {
        QSBRRCU.quiescentState()
        usleep(1000)
      }
      QSBRRCU.unregisterCurrentThread()
    }
    registered.wait()
    let finished = DispatchSemaphore(value: 0)
    _ = try HostThread {
      QSBRRCU.synchronize()
      finished.signal()
    }
    let early = finished.wait(timeout: .now() + temptation) == .success
    announce.signal()
    let afterQuiescentStates = finished.wait(timeout: .now() + patience) == .success
    stop.store(true, ordering: .relaxed)
    thread.join()
    #expect(!early, "synchronize returned while an online thread had announced nothing")
    #expect(afterQuiescentStates, "quiescent states did not end the grace period")
  }

  @Test("an offline thread holds no grace period, and reads again once back online")
  func offlineThreadHoldsNothing() throws {
    let offline = DispatchSemaphore(value: 0)
    let resume = DispatchSemaphore(value: 0)
    let readAgain = Counter()
    let thread = try HostThread {
      QSBRRCU.registerCurrentThread()
      QSBRRCU.threadOffline()
      offline.signal()
      _ = resume.wait(timeout: .now() + patience)
      QSBRRCU.threadOnline()
      QSBRRCU.withReadSection { readAgain.increment() }
      QSBRRCU.unregisterCurrentThread()
    }
    offline.wait()
    let synchronized = try finishes(within: patience) { QSBRRCU.synchronize() }
    resume.signal()
    thread.join()
    #expect(synchronized, "synchronize waited for an offline thread")
    #expect(readAgain.value == 1)
  }

  @Test("synchronize and barrier from an online thread do not wait for the caller itself")
  func waitsFromOnlineThread() throws {
    let ran = Counter()
    let returned = try finishes(within: patience) {
      QSBRRCU.registerCurrentThread()
      QSBRRCU.deferUntilGracePeriod { ran.increment() }
      QSBRRCU.synchronize()
      QSBRRCU.barrier()
      // Still online: this read would abort otherwise.
      QSBRRCU.withReadSection {}
      QSBRRCU.unregisterCurrentThread()
    }
    #expect(returned, "an online caller deadlocked on its own grace period")
    #expect(ran.value == 1)
  }

  @Test("a registered thread that exits without unregistering does not stall grace periods")
  func exitWithoutUnregistering() throws {
    let thread = try HostThread { QSBRRCU.registerCurrentThread() }
    thread.join()
    #expect(try finishes(within: patience) { QSBRRCU.synchronize() })
  }

  // MARK: - Loud failures (each in a child process)

  @Test("a read on a thread that never registered aborts with a message")
  func readUnregisteredAborts() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      QSBRRCU.readLock()
    }
    #expect(result.map { errorText($0).contains("not registered") } == true)
  }

  @Test("a read on an offline thread aborts with a message")
  func readOfflineAborts() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      QSBRRCU.registerCurrentThread()
      QSBRRCU.threadOffline()
      QSBRRCU.readLock()
    }
    #expect(result.map { errorText($0).contains("offline thread") } == true)
  }

  @Test("bringing an unregistered thread online aborts with a message")
  func onlineUnregisteredAborts() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      QSBRRCU.threadOnline()
    }
    #expect(result.map { errorText($0).contains("not registered") } == true)
  }

  @Test(
    "quiescent points inside a read-side section abort with a message",
    arguments: [
      "quiescentState", "threadOffline", "synchronize", "barrier",
      "unregisterCurrentThread",
    ])
  func quiescentPointInsideSectionAborts(operation: String) async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      [operation] in
      QSBRRCU.registerCurrentThread()
      QSBRRCU.readLock()
      switch operation {
      case "quiescentState": QSBRRCU.quiescentState()
      case "threadOffline": QSBRRCU.threadOffline()
      case "synchronize": QSBRRCU.synchronize()
      case "barrier": QSBRRCU.barrier()
      default: QSBRRCU.unregisterCurrentThread()
      }
      // Not reached when the operation aborts; a clean exit fails the test.
      QSBRRCU.readUnlock()
    }
    #expect(result.map { errorText($0).contains("inside a read-side section") } == true)
  }
}

/// A child process's standard error, as text.
func errorText(_ result: ExitTest.Result) -> String {
  String(decoding: result.standardErrorContent, as: UTF8.self)
}
