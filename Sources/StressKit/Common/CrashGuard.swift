import HostSupport
import Glibc

/// Turns a crash into a reported violation.
///
/// Under a broken grace period, readers can touch a table or device that was already freed
/// and crash instead of tripping a check. That crash is the violation the run looks for, so
/// it is reported as one (exit status 1) instead of dying with a signal.
public enum CrashGuard {
  /// Installs the handlers; call once, before starting the run's threads.
  public static func install() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { signal in
      let message: StaticString =
        "\nstress: VIOLATION use-after-unregister: a thread crashed (SIGSEGV/SIGBUS), most likely touching memory reclaimed before its grace period ended\n"
      // Only async-signal-safe calls here: write(2) and _exit(2).
      _ = message.withUTF8Buffer { write(STDERR_FILENO, $0.baseAddress, $0.count) }
      _exit(1)
    }
    sigemptyset(&action.sa_mask)
    sigaction(SIGSEGV, &action, nil)
    sigaction(SIGBUS, &action, nil)
  }
}
