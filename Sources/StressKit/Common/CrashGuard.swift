import Foundation
import Glibc
import Synchronization

/// Turns a crash into a reported violation.
///
/// Under a broken grace period, readers touch tables and devices that were already freed
/// and crash instead of tripping a check: a segmentation fault, a Swift runtime trap on a
/// mangled object (SIGILL, SIGTRAP), glibc aborting on a corrupted heap (SIGABRT), a jump
/// through a freed function pointer into garbage (SIGILL, SIGFPE, SIGBUS). That crash is
/// the violation the run looks for, so it is reported as one: a `VIOLATION crash` line on
/// stderr, a JSON report with verdict `violations` at the `--json` path, and exit status 1,
/// never death by signal.
///
/// What makes it robust:
/// - every fatal signal a broken grace period can cause is caught, not only SIGSEGV;
/// - the handler runs on an alternate signal stack (each thread the engine starts gets one,
///   ``prepareCurrentThread()``), so a thread whose stack pointer was smashed by a jump into
///   freed code is still reported; without it the kernel cannot push the signal frame and
///   kills the process with the signal itself;
/// - each such thread also unblocks the fatal signals: a thread inherits its creator's
///   signal mask (Swift concurrency workers block most signals), and a synchronous fault
///   on a thread that blocks it bypasses every handler and kills the process;
/// - callbacks the engine runs on threads it did not start (liburcu's call_rcu worker)
///   prepare that thread the same way first;
/// - the handler calls only async-signal-safe functions (write, open, close, _exit, pause)
///   on bytes prepared at install time: the heap may be the very thing that is corrupted;
/// - when several threads crash at once, the first reports and the others wait for its
///   `_exit`, so the report is written once and not interleaved.
public enum CrashGuard {
  /// The signals reported as a crash.
  static let fatalSignals: [(number: Int32, name: String)] = [
    (SIGSEGV, "SIGSEGV"), (SIGBUS, "SIGBUS"), (SIGILL, "SIGILL"), (SIGFPE, "SIGFPE"),
    (SIGABRT, "SIGABRT"), (SIGTRAP, "SIGTRAP"), (SIGSYS, "SIGSYS"),
  ]

  /// Size of each thread's alternate signal stack: the kernel's signal frame (several KiB
  /// with AVX-512 state) plus the handler, with room to spare.
  static let alternateStackSize = 64 * 1024

  /// Installs the handlers for `command`, with the crash report going to `json` if given,
  /// under `header` (the replay command line ends the stderr report too). Call once, on
  /// the main thread, before the run starts its threads.
  public static func install(
    command: String = "stress", json: JSONDestination? = nil, header: ReportHeader? = nil
  ) {
    let texts = UnsafeMutablePointer<CrashText>.allocate(capacity: Int(NSIG))
    texts.initialize(repeating: CrashText(), count: Int(NSIG))
    for (number, name) in fatalSignals {
      texts[Int(number)] = CrashText(
        stderr: permanentBytes(
          stderrLine(signal: name) + (header.map { "replay: \($0.replay)\n" } ?? "")),
        json: permanentBytes(jsonReport(command: command, signal: name, header: header)))
    }
    crashState = CrashState(
      texts: texts, jsonPath: json.map { UnsafePointer(strdup($0.path)) })
    _ = reporting.load(ordering: .relaxed)  // initialized here, never in the handler
    guard pthread_key_create(&preparedKey, nil) == 0 else { return }
    keyCreated = true
    prepareCurrentThread()

    var action = sigaction()
    action.__sigaction_handler.sa_sigaction = { signal, _, _ in CrashGuard.report(signal) }
    action.sa_flags = SA_SIGINFO | SA_ONSTACK
    sigemptyset(&action.sa_mask)
    for (number, _) in fatalSignals {
      sigaddset(&action.sa_mask, number)
    }
    for (number, _) in fatalSignals {
      sigaction(number, &action, nil)
    }
  }

  /// Gives the calling thread an alternate signal stack and unblocks the fatal signals on
  /// it; idempotent, and a no-op before ``install(command:json:)``. Every thread the
  /// engine starts calls it first, and so does every engine callback that may run on a
  /// thread it did not start. The stack is never freed: threads are few and the process
  /// is short-lived, and a stack freed while its thread can still fault would be worse
  /// than none.
  public static func prepareCurrentThread() {
    guard keyCreated, pthread_getspecific(preparedKey) == nil else { return }
    let stack = mmap(
      nil, alternateStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    if let stack, stack != MAP_FAILED {
      var alternate = stack_t(ss_sp: stack, ss_flags: 0, ss_size: alternateStackSize)
      sigaltstack(&alternate, nil)
    }
    var fatal = sigset_t()
    sigemptyset(&fatal)
    for (number, _) in fatalSignals { sigaddset(&fatal, number) }
    pthread_sigmask(SIG_UNBLOCK, &fatal, nil)
    // Any non-nil value marks the thread as prepared.
    pthread_setspecific(preparedKey, UnsafeRawPointer(bitPattern: 1))
  }

  /// The handler. Async-signal-safe: raw pointers prepared by `install`, system calls only.
  private static func report(_ signal: Int32) {
    guard let state = crashState else { _exit(1) }
    // Acquiring and releasing: pairs with the exchange of any other crashing thread, so
    // exactly one reports.
    if reporting.exchange(true, ordering: .acquiringAndReleasing) {
      // Another thread is reporting; its _exit ends this one too.
      while true { pause() }
    }
    let text = signal >= 0 && signal < NSIG ? state.texts[Int(signal)] : CrashText()
    if let line = text.stderr {
      _ = write(STDERR_FILENO, line.baseAddress, line.count)
    }
    if let path = state.jsonPath, let json = text.json {
      let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      if file >= 0 {
        _ = write(file, json.baseAddress, json.count)
        close(file)
      }
    }
    _exit(1)
  }

  static func stderrLine(signal: String) -> String {
    "\nstress: VIOLATION crash: a thread died of \(signal), most likely touching memory "
      + "reclaimed before its grace period ended\n"
  }

  /// The crash's JSON report, laid out as every report is: `verdict` first, then
  /// `header`, then the other fields in alphabetical order.
  static func jsonReport(command: String, signal: String, header: ReportHeader? = nil) -> String {
    let example =
      "a thread died of \(signal), most likely touching memory reclaimed before its grace "
      + "period ended"
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let headerField =
      header.flatMap { try? encoder.encode($0) }
      .map { #""header":"# + String(decoding: $0, as: UTF8.self) + "," } ?? ""
    return """
      {"verdict":"violations",\(headerField)"command":"\(command)","crash":"\(signal)",\
      "shortfalls":[],"violations":[{"kind":"crash","count":1,"examples":["\(example)"]}],\
      "work":[]}

      """
  }

  /// Copies `text` into memory that is never freed, for the handler.
  private static func permanentBytes(_ text: String) -> UnsafeBufferPointer<UInt8> {
    let bytes = Array(text.utf8)
    let memory = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
    _ = memory.initialize(from: bytes)
    return UnsafeBufferPointer(memory)
  }
}

/// What the handler writes for one signal.
private struct CrashText {
  var stderr: UnsafeBufferPointer<UInt8>?
  var json: UnsafeBufferPointer<UInt8>?
}

/// Everything the handler reads, prepared by `install`.
private struct CrashState {
  /// Indexed by signal number.
  let texts: UnsafeMutablePointer<CrashText>
  /// NUL-terminated (never freed), or nil without `--json`.
  let jsonPath: UnsafePointer<CChar>?
}

// Safe: written once by `install` on the main thread before any other thread of the run
// starts (thread creation orders the write before their reads), then only read.
nonisolated(unsafe) private var crashState: CrashState?
// Safe: as `crashState`.
nonisolated(unsafe) private var preparedKey = pthread_key_t()
// Safe: as `crashState`; whether `preparedKey` was created.
nonisolated(unsafe) private var keyCreated = false
/// Set by the first thread that reports a crash.
private let reporting = Atomic<Bool>(false)
