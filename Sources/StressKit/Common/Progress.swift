import Foundation
import Glibc
import HostSupport
import Synchronization

/// Prints a progress line on stderr once a second until stopped: one line rewritten in
/// place on a terminal, plain lines otherwise (logs, CI).
final class Progress: Sendable {
  private let stopped = StopFlag()
  private let thread: HostThread

  /// Starts reporting; `line` is called once a second on the progress thread.
  init(_ line: @escaping @Sendable (_ elapsed: Double) -> String) throws {
    let start = monotonicNanoseconds()
    let onTerminal = isatty(STDERR_FILENO) == 1
    let stopped = self.stopped
    do {
      thread = try HostThread {
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
      }
    } catch {
      throw SetupFailure(message: "cannot start the progress thread: errno \(error.errno)")
    }
  }

  /// Stops reporting and waits for the last line.
  func stop() {
    stopped.set()
    thread.join()
  }
}

/// A flag one thread raises and others poll (a shared read-mostly cache line).
final class StopFlag: Sendable {
  private let raised = Atomic<Bool>(false)

  /// Raises the flag.
  func set() { raised.store(true, ordering: .releasing) }

  /// Whether the flag was raised.
  var isSet: Bool { raised.load(ordering: .acquiring) }
}

/// Writes a report as pretty JSON, turning a failure into a setup failure.
public func writeJSON<Report: Encodable>(_ report: Report, to path: String?) throws {
  guard let path else { return }
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  do {
    try encoder.encode(report).write(to: URL(fileURLWithPath: path))
  } catch {
    throw SetupFailure(message: "cannot write \(path): \(error)")
  }
}

/// Starts one real pthread per index and returns them for joining.
func startThreads(
  _ count: Int, named role: String, _ body: @escaping @Sendable (Int) -> Void
) throws -> [HostThread] {
  var threads: [HostThread] = []
  for index in 0..<count {
    do {
      threads.append(try HostThread { body(index) })
    } catch {
      for thread in threads { thread.join() }
      throw SetupFailure(message: "cannot start \(role) thread \(index): errno \(error.errno)")
    }
  }
  return threads
}
