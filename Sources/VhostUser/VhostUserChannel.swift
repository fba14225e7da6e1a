import CVhostUser
import Glibc

/// The socket to one back end: sends requests with their descriptors and reads replies
/// within a time limit. Not thread-safe on its own: ``VhostUserFrontend`` serializes it.
///
/// Any failure (a send error, a timeout, a malformed or missing reply) breaks the channel:
/// the stream may hold half a message, so later requests fail at once with
/// ``VhostUserError/connectionBroken(since:)`` instead of reading garbage.
struct VhostUserChannel: ~Copyable {
  let socket: Int32
  /// How long one reply may take.
  let replyTimeoutMilliseconds: Int
  private(set) var brokenBy: VhostUserError?

  init(path: String, replyTimeoutMilliseconds: Int) throws(VhostUserError) {
    let fd = cvhost_connect(path)
    guard fd >= 0 else { throw .connect(path: path, errno: -fd) }
    socket = fd
    self.replyTimeoutMilliseconds = replyTimeoutMilliseconds
  }

  deinit { close(socket) }

  /// Sends `message` with `descriptors`, then reads and decodes the reply it expects:
  /// `expecting` for a `GET_` request, a `REPLY_ACK` status when `message` asks for one
  /// (a non-zero status throws ``VhostUserError/refused(_:status:)``), nothing otherwise.
  mutating func exchange(
    _ message: VhostUserMessage, descriptors: [Int32] = [],
    expecting: VhostUserReply.Expectation? = nil
  ) throws(VhostUserError) -> VhostUserReply.Value? {
    if let brokenBy { throw .connectionBroken(since: brokenBy.description) }
    do throws(VhostUserError) {
      try send(message, descriptors: descriptors)
      let acknowledged = message.flags & VhostUserMessage.needReplyFlag != 0
      guard let expected = expecting ?? (acknowledged ? .u64 : nil) else { return nil }
      let value = try receive(for: message.request, expecting: expected)
      if expecting == nil, case .u64(let status) = value, status != 0 {
        throw .refused(message.request, status: status)
      }
      return value
    } catch {
      if case .refused = error {} else { brokenBy = error }
      throw error
    }
  }

  private func send(_ message: VhostUserMessage, descriptors: [Int32]) throws(VhostUserError) {
    let bytes = message.encoded
    let sent = bytes.withUnsafeBytes { buffer in
      descriptors.withUnsafeBufferPointer { fds in
        cvhost_send(socket, buffer.baseAddress, buffer.count, fds.baseAddress, Int32(fds.count))
      }
    }
    guard sent >= 0 else { throw .send(message.request, errno: Int32(-sent)) }
    // A Unix stream socket takes a message this small whole or not at all.
    guard sent == bytes.count else { throw .send(message.request, errno: EMSGSIZE) }
  }

  private func receive(for request: VhostUserRequest, expecting: VhostUserReply.Expectation)
    throws(VhostUserError) -> VhostUserReply.Value
  {
    var descriptors = 0
    let header = try receiveExactly(
      VhostUserMessage.headerSize, for: request, descriptors: &descriptors)
    let size = try VhostUserReply.payloadSize(header: header, for: request)
    let payload = try receiveExactly(size, for: request, descriptors: &descriptors)
    return try VhostUserReply.decode(
      payload: payload, descriptors: descriptors, for: request, expecting: expecting)
  }

  /// Reads exactly `count` bytes, each wait bounded by the reply timeout; descriptors that
  /// arrive are counted and closed (a reply never carries one).
  private func receiveExactly(_ count: Int, for request: VhostUserRequest, descriptors: inout Int)
    throws(VhostUserError) -> [UInt8]
  {
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
      let ready = cvhost_wait_readable(socket, Int32(replyTimeoutMilliseconds))
      guard ready >= 0 else { throw .receive(request, errno: -ready) }
      guard ready == 1 else { throw .timeout(request, milliseconds: replyTimeoutMilliseconds) }
      var fds = [Int32](repeating: -1, count: Int(CVHOST_MAX_FDS))
      var received: Int32 = 0
      let got = bytes.withUnsafeMutableBytes { buffer in
        fds.withUnsafeMutableBufferPointer { fdBuffer in
          cvhost_receive(
            socket, buffer.baseAddress! + filled, count - filled, fdBuffer.baseAddress, &received)
        }
      }
      for fd in fds.prefix(Int(received)) { close(fd) }
      descriptors += Int(received)
      if got == -Int(EBADMSG) {
        throw .malformedReply(request, reason: "more descriptors than a message may carry")
      }
      guard got >= 0 else { throw .receive(request, errno: Int32(-got)) }
      guard got > 0 else { throw .backendClosed(request) }
      filled += got
    }
    return bytes
  }
}
