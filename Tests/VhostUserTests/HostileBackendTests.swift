import CVhostUser
import ConcurrentBus
import Foundation
import Glibc
import HostSupport
import Testing
import VhostUser

/// A back end that answers `GET_FEATURES` with `reply` (or not at all, or hangs up), on a
/// Unix socket of its own: the front end must say what is wrong, within its timeout, and
/// close any descriptor that came along.
struct HostileBackendTests {
  enum Answer: Sendable {
    case bytes([UInt8], descriptor: Bool)
    case silence
    case hangUp
  }

  /// Runs a front end against a one-connection back end that gives `answer`.
  func connect(answering answer: Answer) throws -> VhostUserError? {
    let path =
      NSTemporaryDirectory() + "/hostile-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    let listener = try boundUnixSocket(at: path)
    defer {
      close(listener)
      unlink(path)
    }
    try #require(listen(listener, 1) == 0)
    let backend = try HostThread {
      let connection = accept(listener, nil, nil)
      guard connection >= 0 else { return }
      defer { close(connection) }
      // SET_OWNER (no reply), then GET_FEATURES: read both headers.
      var header = [UInt8](repeating: 0, count: 24)
      var read = 0
      while read < 24 {
        let got = header.withUnsafeMutableBytes {
          Glibc.read(connection, $0.baseAddress! + read, 24 - read)
        }
        guard got > 0 else { return }
        read += got
      }
      switch answer {
      case .bytes(let bytes, let descriptor):
        let spare = descriptor ? try? EventFD() : nil
        var fds: [Int32] = spare.map { [$0.descriptor] } ?? []
        _ = bytes.withUnsafeBytes { buffer in
          cvhost_send(connection, buffer.baseAddress, buffer.count, &fds, Int32(fds.count))
        }
        withExtendedLifetime(spare) {}
        usleep(400_000)
      case .silence: usleep(600_000)
      case .hangUp: return
      }
    }
    defer { backend.join() }
    do {
      _ = try VhostUserFrontend(path: path, offering: 0, replyTimeout: .milliseconds(300))
      return nil
    } catch {
      return error
    }
  }

  static func header(request: UInt32, flags: UInt32, size: UInt32) -> [UInt8] {
    [request, flags, size].flatMap { value in
      (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
  }

  @Test func anOversizedReplyIsMalformed() throws {
    let error = try connect(
      answering: .bytes(Self.header(request: 1, flags: 5, size: 1 << 30), descriptor: false))
    guard case .malformedReply(.getFeatures, _) = error else {
      Issue.record("\(String(describing: error))")
      return
    }
  }

  @Test func aReplyToAnotherRequestIsMalformed() throws {
    let error = try connect(
      answering: .bytes(
        Self.header(request: 15, flags: 5, size: 8) + [UInt8](repeating: 0, count: 8),
        descriptor: false))
    guard case .malformedReply(.getFeatures, let reason) = error else {
      Issue.record("\(String(describing: error))")
      return
    }
    #expect(reason.contains("request 15"))
  }

  @Test func aDescriptorInAReplyIsMalformed() throws {
    let error = try connect(
      answering: .bytes(
        Self.header(request: 1, flags: 5, size: 8) + [UInt8](repeating: 0xFF, count: 8),
        descriptor: true))
    guard case .malformedReply(.getFeatures, let reason) = error else {
      Issue.record("\(String(describing: error))")
      return
    }
    #expect(reason.contains("descriptor"))
  }

  @Test func aSilentBackEndTimesOut() throws {
    #expect(try connect(answering: .silence) == .timeout(.getFeatures, milliseconds: 300))
  }

  @Test func aBackEndThatHangsUpIsClosed() throws {
    let error = try connect(answering: .hangUp)
    switch error {
    case .backendClosed(.getFeatures)?, .send(_, _)?, .receive(_, _)?: break
    default: Issue.record("\(String(describing: error))")
    }
  }
}
