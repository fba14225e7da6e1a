/// One vhost-user message as it goes on the wire: a 12-byte header (`request`, `flags`,
/// `size`, little-endian u32 each) and `size` bytes of payload. File descriptors travel
/// beside it as `SCM_RIGHTS` (``VhostUserChannel``).
public struct VhostUserMessage: Sendable, Hashable {
  /// Header bytes before the payload.
  public static let headerSize = 12
  /// The protocol version, in the low two bits of `flags`.
  public static let version: UInt32 = 0x1
  /// The bits of `flags` that hold the version.
  public static let versionMask: UInt32 = 0x3
  /// Set in `flags` of every reply.
  public static let replyFlag: UInt32 = 0x4
  /// Set in a request's `flags` to ask for a `REPLY_ACK` acknowledgement.
  public static let needReplyFlag: UInt32 = 0x8
  /// The largest reply payload accepted: a configuration space of 256 bytes plus its
  /// 12-byte header fits with room; anything larger is malformed.
  public static let maximumReplyPayload = 512

  /// The request code.
  public var request: VhostUserRequest
  /// Version and flag bits.
  public var flags: UInt32
  /// The payload.
  public var payload: [UInt8]

  /// A request with version 1 and, when `needReply`, the need-reply flag.
  public init(_ request: VhostUserRequest, payload: [UInt8] = [], needReply: Bool = false) {
    self.request = request
    self.flags = Self.version | (needReply ? Self.needReplyFlag : 0)
    self.payload = payload
  }

  /// Header and payload, ready to send.
  public var encoded: [UInt8] {
    var bytes = LittleEndianBytes()
    bytes.append32(request.rawValue)
    bytes.append32(flags)
    bytes.append32(UInt32(payload.count))
    return bytes.bytes + payload
  }
}

/// Builds little-endian payloads.
struct LittleEndianBytes {
  var bytes: [UInt8] = []

  mutating func append32(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> shift))
    }
  }

  mutating func append64(_ value: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> shift))
    }
  }
}

extension Collection<UInt8> where Index == Int {
  /// The little-endian u32 at `offset`, or nil when it does not fit.
  func loadLittleEndian32(at offset: Int) -> UInt32? {
    guard offset >= 0, offset + 4 <= count else { return nil }
    var value: UInt32 = 0
    for byte in 0..<4 { value |= UInt32(self[startIndex + offset + byte]) << (8 * byte) }
    return value
  }

  /// The little-endian u64 at `offset`, or nil when it does not fit.
  func loadLittleEndian64(at offset: Int) -> UInt64? {
    guard let low = loadLittleEndian32(at: offset), let high = loadLittleEndian32(at: offset + 4)
    else { return nil }
    return UInt64(high) << 32 | UInt64(low)
  }
}
