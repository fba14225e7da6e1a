import Foundation
import Glibc
import HostSupport
import RCU
import Testing

@testable import StressKit

/// A crash under a broken grace period is a violation: exit status 1 and a report, never
/// death by signal. Each test runs in a child process of its own (an exit test).
@Suite("Crash guard")
struct CrashGuardTests {
  @Test(arguments: CrashGuard.fatalSignals.map(\.number))
  func everyFatalSignalIsReportedAsAViolation(signal: Int32) async {
    let result = await #expect(
      processExitsWith: .exitCode(1), observing: [\.standardErrorContent]
    ) { [signal] in
      CrashGuard.install(command: "test")
      raise(signal)
    }
    let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(text.contains("VIOLATION crash"))
  }

  @Test func aRealSegmentationFaultWritesTheJSONReport() async throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("crash.json").path
    await #expect(processExitsWith: .exitCode(1)) { [path = path as String] in
      CrashGuard.install(command: "test", json: try JSONDestination(validating: path))
      UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 1
    }
    let written = try jsonVerdict(at: URL(fileURLWithPath: path))
    #expect(written.verdict == "violations")
    #expect(written.kinds == ["crash"])
  }

  /// A thread whose stack is gone (here: overflowed) can only be reported from an
  /// alternate signal stack; without one the kernel kills the process with SIGSEGV,
  /// which is how `churn --flavor broken` could still die with status 139.
  @Test func aSmashedStackIsStillReportedFromTheAlternateStack() async {
    await #expect(processExitsWith: .exitCode(1)) {
      CrashGuard.install(command: "test")
      let thread = try startThreads(1, named: "overflow") { _ in _ = recurse(1) }
      thread[0].join()
    }
  }

  @Test(.disabled(if: underAddressSanitizer, "AddressSanitizer gives every thread its own"))
  func withoutTheAlternateStackASmashedStackDiesOfSIGSEGV() async {
    await #expect(processExitsWith: .signal(SIGSEGV)) {
      CrashGuard.install(command: "test")
      let thread = try HostThread { _ = recurse(1) }  // not prepared
      thread.join()
    }
  }

  /// A thread inherits its creator's signal mask; a synchronous fault on a thread that
  /// blocks the signal bypasses every handler.
  @Test func aThreadStartedWithSignalsBlockedIsUnblockedAndReported() async {
    await #expect(processExitsWith: .exitCode(1)) {
      CrashGuard.install(command: "test")
      blockEverySignal()
      let thread = try startThreads(1, named: "faulting") { _ in
        UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 1
      }
      thread[0].join()
    }
  }

  @Test func anUnpreparedThreadWithSignalsBlockedDiesOfTheSignal() async {
    await #expect(processExitsWith: .signal(SIGSEGV)) {
      CrashGuard.install(command: "test")
      blockEverySignal()
      let thread = try HostThread { UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 1 }
      thread.join()
    }
  }

  /// Deferred callbacks run on liburcu's call_rcu worker, which the engine did not start.
  @Test func aFaultOnTheCallbackThreadIsReportedOnceThatThreadIsPrepared() async {
    await #expect(processExitsWith: .exitCode(1)) {
      CrashGuard.install(command: "test")
      MembRCU.deferUntilGracePeriod {
        CrashGuard.prepareCurrentThread()
        UnsafeMutablePointer<Int>(bitPattern: 8)!.pointee = 1
      }
      MembRCU.barrier()
    }
  }
}

/// Recurses until the stack runs out.
@inline(never)
func recurse(_ depth: Int) -> Int {
  if depth < 0 { return 0 }  // never: keeps the compiler from calling it infinite
  var frame = [UInt64](repeating: UInt64(depth), count: 1)  // keeps the frame non-trivial
  frame[0] &+= UInt64(recurse(depth + 1))
  return Int(truncatingIfNeeded: frame[0])
}

/// Blocks every signal on the calling thread (as Swift concurrency workers do), so the
/// threads it starts inherit that mask.
func blockEverySignal() {
  var all = sigset_t()
  sigfillset(&all)
  pthread_sigmask(SIG_BLOCK, &all, nil)
}
