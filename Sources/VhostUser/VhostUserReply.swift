/// Checks and decodes what a back end answers. The back end is another process and is not
/// trusted: any byte sequence may arrive, and each one either decodes into what the request
/// expects or throws ``VhostUserError/malformedReply(_:reason:)``; nothing is read outside
/// the bytes received. `Tests/VhostUserTests` feeds it random replies.
public enum VhostUserReply {
  /// What a request expects back.
  public enum Expectation: Sendable, Hashable {
    /// A u64 (features, queue count, a `REPLY_ACK` status).
    case u64
    /// A vring state (`index`, `num`) whose index must be `queue`.
    case vringState(queue: UInt32)
    /// A configuration space of `size` bytes (`offset`, `size`, `flags`, then the bytes).
    case config(size: Int)
  }

  /// A decoded reply.
  public enum Value: Sendable, Hashable {
    /// A u64.
    case u64(UInt64)
    /// A vring state's `num`: an available-ring index.
    case vringState(UInt32)
    /// The bytes of a configuration space.
    case config([UInt8])
  }

  /// Checks a reply header for `request`: version 1, the reply flag, the same request code,
  /// a payload no larger than ``VhostUserMessage/maximumReplyPayload``. Returns the payload
  /// size the header announces.
  public static func payloadSize(header: [UInt8], for request: VhostUserRequest)
    throws(VhostUserError) -> Int
  {
    guard header.count == VhostUserMessage.headerSize,
      let code = header.loadLittleEndian32(at: 0), let flags = header.loadLittleEndian32(at: 4),
      let size = header.loadLittleEndian32(at: 8)
    else {
      throw .malformedReply(request, reason: "a header of \(header.count) bytes, not 12")
    }
    guard code == request.rawValue else {
      throw .malformedReply(request, reason: "it answers request \(code)")
    }
    guard flags & VhostUserMessage.versionMask == VhostUserMessage.version else {
      throw .malformedReply(request, reason: "version \(flags & VhostUserMessage.versionMask)")
    }
    guard flags & VhostUserMessage.replyFlag != 0 else {
      throw .malformedReply(request, reason: "the reply flag is not set")
    }
    guard size <= VhostUserMessage.maximumReplyPayload else {
      throw .malformedReply(request, reason: "a payload of \(size) bytes")
    }
    return Int(size)
  }

  /// Decodes a payload against what `request` expects; `descriptors` is how many file
  /// descriptors came with the reply (none is ever expected).
  public static func decode(
    payload: [UInt8], descriptors: Int, for request: VhostUserRequest, expecting: Expectation
  ) throws(VhostUserError) -> Value {
    guard descriptors == 0 else {
      throw .malformedReply(request, reason: "\(descriptors) file descriptor(s) came with it")
    }
    switch expecting {
    case .u64:
      guard payload.count == 8, let value = payload.loadLittleEndian64(at: 0) else {
        throw .malformedReply(request, reason: "a payload of \(payload.count) bytes, not a u64")
      }
      return .u64(value)
    case .vringState(let queue):
      guard payload.count == 8, let index = payload.loadLittleEndian32(at: 0),
        let number = payload.loadLittleEndian32(at: 4)
      else {
        throw .malformedReply(
          request, reason: "a payload of \(payload.count) bytes, not a vring state")
      }
      guard index == queue else {
        throw .malformedReply(request, reason: "the state of queue \(index), not \(queue)")
      }
      guard number <= UInt32(UInt16.max) else {
        throw .malformedReply(request, reason: "ring index \(number) does not fit in 16 bits")
      }
      return .vringState(number)
    case .config(let size):
      guard payload.count == 12 + size, payload.loadLittleEndian32(at: 4) == UInt32(size) else {
        throw .malformedReply(
          request,
          reason: "a payload of \(payload.count) bytes for a \(size)-byte configuration space")
      }
      return .config(Array(payload[12...]))
    }
  }

  /// Header and payload in one buffer (as a fuzzer or a test hands them over), decoded as
  /// ``payloadSize(header:for:)`` and ``decode(payload:descriptors:for:expecting:)`` do.
  public static func decode(
    message: [UInt8], descriptors: Int, for request: VhostUserRequest, expecting: Expectation
  ) throws(VhostUserError) -> Value {
    guard message.count >= VhostUserMessage.headerSize else {
      throw .malformedReply(request, reason: "\(message.count) bytes, shorter than a header")
    }
    let size = try payloadSize(
      header: Array(message[..<VhostUserMessage.headerSize]), for: request)
    guard message.count - VhostUserMessage.headerSize == size else {
      throw .malformedReply(
        request,
        reason: "\(message.count - VhostUserMessage.headerSize) payload bytes, header says \(size)")
    }
    return try decode(
      payload: Array(message[VhostUserMessage.headerSize...]), descriptors: descriptors,
      for: request, expecting: expecting)
  }
}
