import Dispatch
import Foundation
import RCU
import Testing

/// The reclaimer's pool grows while works block and shrinks back once they are done.
@Suite("Reclaimer threads")
struct ReclaimerThreadTests {
  @Test("threads started for blocking works leave once idle; two stay")
  func sparesLeave() async {
    // In a child process: no other test's deferred work there.
    await #expect(processExitsWith: .success) {
      let gate = DispatchSemaphore(value: 0)
      for _ in 0..<8 {
        MemoryBarrierRCU.deferUntilGracePeriod { _ = gate.wait(timeout: .now() + .seconds(30)) }
      }
      // Wait until all eight block, each on a thread of its own.
      var busy = 0
      for _ in 0..<500 where busy < 9 {
        usleep(10_000)
        busy = threadCount(named: "rcu-mb-work")
      }
      for _ in 0..<8 { gate.signal() }
      MemoryBarrierRCU.barrier()
      sleep(3)  // Spare threads leave after a second without work.
      let idle = threadCount(named: "rcu-mb-work")
      FileHandle.standardError.write(Data("busy: \(busy) threads, idle: \(idle)\n".utf8))
      exit(busy >= 9 && idle == 2 ? EXIT_SUCCESS : EXIT_FAILURE)
    }
  }

  @Test("works that arrive as a polling thread gives up are still run")
  func workAtTheEndOfAPollRuns() async {
    // In a child process: a lost work would hang every later barrier.
    await #expect(processExitsWith: .success) {
      // Gaps from 0 to 80 us (spun, not slept: a sleep lasts 50 us at least) straddle the
      // 50 us poll: some works arrive while a thread polls (no post: the poller must take
      // them), some just as it stops (its last look must see them), some after it slept
      // (posted). Each must run before the next is deferred.
      let ran = DispatchSemaphore(value: 0)
      for attempt in 0..<3000 {
        let resume = DispatchTime.now().uptimeNanoseconds + UInt64(attempt % 81) * 1000
        while DispatchTime.now().uptimeNanoseconds < resume {}
        MembRCU.deferUntilGracePeriod { ran.signal() }
        if ran.wait(timeout: .now() + .seconds(2)) == .timedOut {
          FileHandle.standardError.write(Data("work \(attempt) never ran\n".utf8))
          exit(EXIT_FAILURE)
        }
      }
      exit(EXIT_SUCCESS)
    }
  }

  @Test("a work that arrives as a poller takes a blocking work is not held up by it")
  func workBesideABlockingPolledWorkRuns() async {
    // In a child process: a lost work would hang every later barrier.
    await #expect(processExitsWith: .success) {
      // A quick work first, so that the next arrive close together and a thread polls; then
      // a work that blocks, and 0 to 29 us later another: if the poller took the blocking
      // work and the other's enqueuer skipped its post (it saw the poller), the other must
      // still run while the first blocks.
      let ran = DispatchSemaphore(value: 0)
      for attempt in 0..<1000 {
        MembRCU.deferUntilGracePeriod { ran.signal() }
        ran.wait()
        let gate = DispatchSemaphore(value: 0)
        MembRCU.deferUntilGracePeriod { gate.wait() }
        let resume = DispatchTime.now().uptimeNanoseconds + UInt64(attempt % 30) * 1000
        while DispatchTime.now().uptimeNanoseconds < resume {}
        MembRCU.deferUntilGracePeriod { ran.signal() }
        let timedOut = ran.wait(timeout: .now() + .seconds(1)) == .timedOut
        gate.signal()
        if timedOut {
          FileHandle.standardError.write(Data("attempt \(attempt): held up\n".utf8))
          exit(EXIT_FAILURE)
        }
      }
      MembRCU.barrier()
      exit(EXIT_SUCCESS)
    }
  }
}

/// How many threads of this process have the given name.
private func threadCount(named name: String) -> Int {
  let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
  return tasks.filter { task in
    guard let file = FileHandle(forReadingAtPath: "/proc/self/task/\(task)/comm") else {
      return false
    }
    let comm = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
    return comm.trimmingCharacters(in: .whitespacesAndNewlines) == name
  }.count
}
