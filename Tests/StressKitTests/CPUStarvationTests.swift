import Glibc
import Testing

@testable import StressKit

/// How the stall watchdog tells a machine that gives the run no CPU from a stuck thread:
/// a thread is starved over a window when it spent at least half of it waiting for a CPU
/// and at most a tenth of it running; the machine is saturated when other processes took a
/// third of it or more while the run's threads waited for a CPU as long as they ran.
@Suite("CPU starvation")
struct CPUStarvationTests {
  typealias Account = CPUStarvation.Account
  static let window: UInt64 = 1_000_000_000

  @Test("a thread runnable most of the window that hardly ran is starved")
  func runnableButNotRunning() {
    let before = Account(running: 5_000, waiting: 7_000)
    let after = Account(running: 5_000 + 50_000_000, waiting: 7_000 + 900_000_000)
    #expect(CPUStarvation.isStarved(from: before, to: after, window: Self.window))
  }

  @Test("a thread asleep (stuck on a lock, say) is not starved: it waited for no CPU")
  func asleep() {
    let account = Account(running: 1_000, waiting: 2_000)
    #expect(!CPUStarvation.isStarved(from: account, to: account, window: Self.window))
  }

  @Test("a thread spinning among others, running a third of the time, is not starved")
  func spinningAmongOthers() {
    let before = Account(running: 0, waiting: 0)
    let after = Account(running: 330_000_000, waiting: 660_000_000)
    #expect(!CPUStarvation.isStarved(from: before, to: after, window: Self.window))
  }

  @Test("counters that went backwards, or an empty window, judge nothing")
  func nonsense() {
    let high = Account(running: 9_000_000_000, waiting: 9_000_000_000)
    let low = Account(running: 0, waiting: 0)
    #expect(!CPUStarvation.isStarved(from: high, to: low, window: Self.window))
    #expect(!CPUStarvation.isStarved(from: low, to: high, window: 0))
  }

  @Test("a snapshot holds this thread, and a thread asleep over a window is not starved")
  func realSnapshots() throws {
    let before = CPUStarvation.now()
    let me = try #require(Self.currentThreadID())
    let mine = try #require(before.threads[me], "thread \(me) not in \(before.threads.keys)")
    #expect(mine.running > 0)
    usleep(100_000)
    let after = CPUStarvation.now()
    #expect(after.at > before.at)
    #expect(after.threads[me]!.running >= mine.running)
    #expect(
      !CPUStarvation.isStarved(from: mine, to: after.threads[me]!, window: after.at - before.at))
  }

  @Test("two hogs took most of the machine while the run waited for a CPU: saturated")
  func hogsBesideTheRun() {
    // 2 cores over 1 s: the hogs took 1.2 s, the run's threads ran 0.8 s and waited 3 s.
    #expect(
      CPUStarvation.isSaturated(
        othersUsed: 1_200_000_000, capacity: 2 * Self.window, waited: 3_000_000_000,
        ran: 800_000_000))
  }

  @Test("the run's own threads oversubscribing an idle machine do not saturate it")
  func oversubscribedByItself() {
    // Five spinning threads on 2 cores: they wait more than they run, but nobody else ran.
    #expect(
      !CPUStarvation.isSaturated(
        othersUsed: 20_000_000, capacity: 2 * Self.window, waited: 3_000_000_000,
        ran: 2_000_000_000))
  }

  @Test("a busy machine while the run's threads slept (stuck, say) is not saturation")
  func busyMachineIdleRun() {
    #expect(
      !CPUStarvation.isSaturated(
        othersUsed: 2 * Self.window, capacity: 2 * Self.window, waited: 0, ran: 0))
    #expect(
      !CPUStarvation.isSaturated(
        othersUsed: 2 * Self.window, capacity: 2 * Self.window, waited: 1_000_000,
        ran: 900_000_000))
  }

  /// Two snapshots 1 s apart on a machine whose two hogs took 1.75 of its 2 CPUs while the
  /// run's two threads waited 0.65 s for a CPU and ran 0.2 s, neither starved by the
  /// per-thread rule.
  static func saturatedWindow() -> (CPUStarvation, CPUStarvation) {
    let zero = Account(running: 0, waiting: 0)
    let before = CPUStarvation(at: 0, threads: [1: zero, 2: zero], machineBusy: 0)
    let after = CPUStarvation(
      at: window,
      threads: [
        1: Account(running: 200_000_000, waiting: 450_000_000),
        2: Account(running: 1_000_000, waiting: 200_000_000),
      ], machineBusy: 1_950_000_000)
    return (before, after)
  }

  @Test("saturation explains a wait only when no reader is inside a section")
  func saturationWithAndWithoutReaders() throws {
    let (before, after) = Self.saturatedWindow()
    let text = try #require(after.describeStarvation(since: before, saturationCounts: true))
    #expect(text.hasPrefix("the machine was saturated over the last 1.00 s"))
    #expect(after.describeStarvation(since: before, saturationCounts: false) == nil)
  }

  @Test("an 'earlier' snapshot taken later (a join beside the watch thread) judges nothing")
  func snapshotsOutOfOrder() {
    let (before, after) = Self.saturatedWindow()
    // The same counts, but the snapshot with the larger counts is the earlier one in time:
    // before the fix, the wrapped window overflowed `window * cores` and trapped.
    let late = CPUStarvation(at: Self.window, threads: before.threads, machineBusy: 0)
    let early = CPUStarvation(at: 0, threads: after.threads, machineBusy: after.machineBusy)
    #expect(early.describeStarvation(since: late, saturationCounts: true) == nil)
    #expect(early.starved(since: late) == (0, 0))
  }

  @Test("the machine's busy time is read, and never goes backwards")
  func machineBusyTime() throws {
    let before = try #require(CPUStarvation.machineBusyNanoseconds())
    var spin: UInt64 = 0
    for value in 0..<2_000_000 { spin &+= UInt64(value) ^ spin }
    let after = try #require(CPUStarvation.machineBusyNanoseconds())
    #expect(after >= before && spin != 1)
    #expect(CPUStarvation.now().machineBusy != nil)
  }

  /// This thread's id, from the `/proc/thread-self` link ("<pid>/task/<tid>").
  static func currentThreadID() -> Int32? {
    var buffer = [CChar](repeating: 0, count: 64)
    let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
    guard count > 0 else { return nil }
    let target = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return target.split(separator: "/").last.flatMap { Int32($0) }
  }
}
