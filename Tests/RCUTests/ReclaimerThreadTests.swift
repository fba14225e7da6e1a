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
