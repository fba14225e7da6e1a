import Dispatch
import Glibc
import HostSupport
import Synchronization
import Testing

@testable import StressKit

/// Where a waiting thread is in the kernel, and what the stall watchdog makes of it: a wait
/// inside ioctl(2) is KVM's (its SRCU grace period, its slots lock), not the RCU's under
/// test, so it is a shortfall and the wait's stall clock starts again when it leaves the
/// kernel; any other wait is judged as before, its report naming where its thread is.
@Suite("Kernel waits")
struct KernelWaitTests {
  /// A thread blocked on a semaphore, with its kernel id.
  final class BlockedThread: Sendable {
    private final class ID: Sendable {
      let value = Atomic<Int32>(0)
    }

    let release = DispatchSemaphore(value: 0)
    private let id = ID()
    private let thread: HostThread

    init(_ wrap: @escaping @Sendable (() -> Void) -> Void = { $0() }) throws {
      let release = release
      let id = id
      thread = try HostThread {
        // Releasing: pairs with the acquiring loads in `kernelID`.
        id.value.store(HostThread.currentKernelID, ordering: .releasing)
        wrap { release.wait() }
      }
    }

    var kernelID: Int32 {
      while id.value.load(ordering: .acquiring) == 0 { usleep(100) }
      return id.value.load(ordering: .acquiring)
    }

    func finish() {
      release.signal()
      thread.join()
    }
  }

  @Test func aThreadAsleepOnASemaphoreIsSeenInFutex() throws {
    let blocked = try BlockedThread()
    defer { blocked.finish() }
    // Until the thread has gone to sleep (bounded: a minute).
    var wait: KernelWait?
    for _ in 0..<60_000 {
      wait = KernelWait.of(thread: blocked.kernelID)
      if wait?.syscall == KernelWait.number(of: "futex") { break }
      usleep(1000)
    }
    let seen = try #require(wait)
    #expect(seen.text.hasPrefix("in futex(2)"), "\(seen.text)")
    #expect(!seen.isInIoctl)
  }

  @Test func aThreadThatEndedHasNoKernelWait() throws {
    let blocked = try BlockedThread()
    let id = blocked.kernelID
    blocked.finish()
    #expect(KernelWait.of(thread: id) == nil)
  }

  /// The looks are made by hand at chosen times a minute past the wait's start, so the
  /// watchdog's own thread (timeout 60 s) never judges the wait itself.
  @Test func aWaitInsideAnIoctlIsAShortfallAndItsStallClockRestartsWhenItLeaves() throws {
    let violations = Violations()
    let shortfalls = Shortfalls()
    let watchdog = try StallWatchdog(timeout: 60, violations: violations, shortfalls: shortfalls)
    defer { watchdog.stop() }
    let slot = watchdog.slot("hotplug 0")
    let started = monotonicNanoseconds()
    let blocked = try BlockedThread { body in slot.waiting(for: .synchronousRemoval, body) }
    defer { blocked.finish() }
    _ = blocked.kernelID
    while slot.stalledSince(now: started + 61_000_000_000, timeout: watchdog.timeoutNanoseconds)
      == nil
    {
      usleep(100)
    }
    let ioctlNumber = try #require(KernelWait.number(of: "ioctl"))
    let ioctl = KernelWait(syscall: ioctlNumber, function: "__synchronize_srcu")
    let futex = KernelWait(syscall: KernelWait.number(of: "futex"), function: "futex_wait")
    let inKernel = started + 61_000_000_000

    #expect(watchdog.look(at: slot, now: inKernel, kernel: { _ in ioctl }, starved: { nil }))
    #expect(!violations.any)
    let time = try #require(shortfalls.summary.first { $0.kind == .time })
    #expect(time.examples.first?.contains("inside the kernel (in ioctl(2), asleep in") == true)

    // Out of the kernel: half a timeout later is no stall, a whole timeout later is one.
    #expect(
      watchdog.look(at: slot, now: inKernel + 30_000_000_000, kernel: { _ in futex }) { nil })
    #expect(!violations.any)
    #expect(
      watchdog.look(at: slot, now: inKernel + 61_000_000_000, kernel: { _ in futex }) { nil })
    let stall = try #require(violations.summary.first { $0.kind == .stall })
    let text = try #require(stall.examples.first)
    #expect(text.contains("made no progress for 61.00 s after "), "\(text)")
    #expect(text.contains("inside the kernel (called "), "\(text)")
    #expect(text.contains("its thread: in futex(2), asleep in futex_wait)"), "\(text)")
  }
}
