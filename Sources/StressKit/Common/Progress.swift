import Foundation
import Glibc
import HostSupport
import Synchronization

/// Prints a progress line on stderr once a second until stopped: one line rewritten in
/// place on a terminal, plain lines otherwise (logs, CI).
final class Progress: Sendable {
  private let stopped = StopFlag()
  private let thread: RunThread

  /// Starts reporting; `line` is called once a second on the progress thread.
  init(_ line: @escaping @Sendable (_ elapsed: Double) -> String) throws {
    let start = monotonicNanoseconds()
    let onTerminal = isatty(STDERR_FILENO) == 1
    let stopped = self.stopped
    thread = try startThreads(1, named: "progress") { _ in
      var next = start + 1_000_000_000
      while !stopped.isSet {
        let now = monotonicNanoseconds()
        if now < next {
          usleep(UInt32(min(50_000, (next - now) / 1000)))
          continue
        }
        next += 1_000_000_000
        let text = line(Double(now - start) / 1e9)
        FileHandle.standardError.write(
          Data((onTerminal ? "\r\u{1B}[K\(text)" : "\(text)\n").utf8))
      }
      if onTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }[0]
  }

  /// Stops reporting and waits for the last line.
  func stop() {
    stopped.set()
    thread.join()
  }
}
