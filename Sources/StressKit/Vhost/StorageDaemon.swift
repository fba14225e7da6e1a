import Foundation
import Glibc

/// Why `qemu-storage-daemon` could not serve.
public enum StorageDaemonError: Error, Sendable, Equatable, CustomStringConvertible {
  /// It is not installed (Debian's `qemu-system-common` ships it; `Scripts/bootstrap.sh`
  /// installs it).
  case missing
  /// It could not be started, or it exited before listening: `detail` has its last words.
  case failedToStart(String)
  /// The image or the temporary folder could not be made.
  case files(String)

  public var description: String {
    switch self {
    case .missing:
      "qemu-storage-daemon is not installed (apt-get install qemu-system-common; Scripts/bootstrap.sh does it)"
    case .failedToStart(let detail): "qemu-storage-daemon did not start: \(detail)"
    case .files(let detail): "qemu-storage-daemon's files: \(detail)"
    }
  }
}

/// A `qemu-storage-daemon` serving a fresh zeroed raw image as a vhost-user-blk export on a
/// Unix socket, in a temporary folder of its own, for as long as this object lives (or
/// until ``stop()``).
///
/// @unchecked Sendable: `Process` is used only to start, signal and wait for the child,
/// which it does under its own locks; the paths are immutable.
public final class StorageDaemon: @unchecked Sendable {
  /// The folder holding the image, the socket and the log.
  public let directory: String
  /// The vhost-user socket.
  public let socketPath: String
  /// The raw image the export serves.
  public let imagePath: String
  /// The image's size in bytes.
  public let imageSize: Int
  /// Queues the export offers (`num-queues`).
  public let queues: Int
  private let process: Process

  /// The daemon on `PATH`, if installed.
  public static var executable: String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") {
      let candidate = "\(folder)/qemu-storage-daemon"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }

  /// Starts the daemon on a zeroed image of `imageSize` bytes with `queues` queues and waits
  /// (at most `timeout`) until its socket listens.
  public init(imageSize: Int, queues: Int, timeout: Duration = .seconds(10))
    throws(StorageDaemonError)
  {
    guard let executable = Self.executable else { throw .missing }
    var template = Array("\(NSTemporaryDirectory())/vhost-blk-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw .files("mkdtemp: \(String(cString: strerror(errno)))")
    }
    directory = String(cString: made)
    socketPath = directory + "/vhost.sock"
    imagePath = directory + "/disk.img"
    self.imageSize = imageSize
    self.queues = queues
    guard FileManager.default.createFile(atPath: imagePath, contents: nil),
      truncate(imagePath, off_t(imageSize)) == 0
    else {
      try? FileManager.default.removeItem(atPath: directory)
      throw .files("cannot make \(imagePath)")
    }
    process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = [
      "--blockdev", "driver=file,node-name=disk,filename=\(imagePath)",
      "--export",
      "type=vhost-user-blk,id=export,node-name=disk,addr.type=unix,addr.path=\(socketPath),writable=on,num-queues=\(queues)",
    ]
    _ = FileManager.default.createFile(atPath: directory + "/log", contents: nil)
    let log = FileHandle(forWritingAtPath: directory + "/log")
    process.standardOutput = log
    process.standardError = log
    do {
      try process.run()
    } catch {
      try? FileManager.default.removeItem(atPath: directory)
      throw .failedToStart("\(error)")
    }
    let deadline = ContinuousClock.now + timeout
    while !Self.listens(socketPath) {
      guard process.isRunning, ContinuousClock.now < deadline else {
        let words = lastWords
        stop()
        throw .failedToStart(words.isEmpty ? "no socket within \(timeout)" : words)
      }
      usleep(5_000)
    }
  }

  deinit { stop() }

  /// Whether a Unix socket bound at `path` is listening, from the kernel's table of Unix
  /// sockets (`/proc/net/unix`, flag `__SO_ACCEPTCON`). The file appears at bind(2), before
  /// listen(2): a connect in between is refused (a CI run failed so), and a trial connect
  /// would use up the daemon's one front-end connection.
  static func listens(_ path: String) -> Bool {
    guard let table = try? String(contentsOfFile: "/proc/net/unix", encoding: .utf8) else {
      return false
    }
    let acceptingConnections = "00010000"
    return table.split(separator: "\n").contains { line in
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      return fields.count >= 8 && fields[7] == path && fields[3] == acceptingConnections
    }
  }

  /// Whether the daemon is still running.
  public var isRunning: Bool { process.isRunning }

  /// What the daemon wrote to its log (its last 500 characters).
  public var lastWords: String {
    let text = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
    return String(text.suffix(500)).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Kills the daemon at once (SIGKILL), as a crash would: for checking that its death is
  /// handled.
  public func kill() {
    if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
  }

  /// The image's bytes `[offset, offset + count)` as the daemon left them in the file.
  public func readImage(offset: Int, count: Int) -> [UInt8]? {
    guard let handle = FileHandle(forReadingAtPath: imagePath) else { return nil }
    defer { try? handle.close() }
    do {
      try handle.seek(toOffset: UInt64(offset))
      return try handle.read(upToCount: count).map(Array.init)
    } catch {
      return nil
    }
  }

  /// Stops the daemon (SIGTERM, then SIGKILL after 2 s) and removes its folder. Idempotent.
  public func stop() {
    if process.isRunning {
      process.terminate()
      let deadline = ContinuousClock.now + .seconds(2)
      while process.isRunning && ContinuousClock.now < deadline { usleep(5_000) }
      kill()
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(atPath: directory)
  }
}
