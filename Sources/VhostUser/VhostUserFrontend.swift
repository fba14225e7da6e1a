import Synchronization

/// A vhost-user front end: the VMM's side of one connection to a back end such as
/// `qemu-storage-daemon`. ``init(path:offering:replyTimeout:)`` connects and negotiates; the
/// vring requests then set up, switch and stop the back end's queues.
///
/// Every request waits at most the reply timeout, and an answer the protocol does not allow
/// throws instead of being believed, so a back end that dies, hangs or misbehaves yields a
/// ``VhostUserError`` saying what happened and never hangs or crashes the VMM. With
/// `REPLY_ACK` negotiated every `SET_` request is acknowledged, so a refusal surfaces at the
/// request that caused it.
///
/// Sendable: the socket is used under a mutex (one request and its reply at a time); the
/// negotiated values are immutable.
public final class VhostUserFrontend: Sendable {
  /// The back end's socket path.
  public let path: String
  /// The virtio features both sides agreed on (sent with `SET_FEATURES`).
  public let features: UInt64
  /// The protocol features both sides agreed on.
  public let protocolFeatures: UInt64
  /// How many queues the back end serves (`GET_QUEUE_NUM`, 1 without multiqueue).
  public let queueCount: Int
  /// The device's configuration space (`GET_CONFIG`), when the back end offers it.
  public let configuration: [UInt8]?
  private let channel: Mutex<VhostUserChannel>

  /// The protocol features a front end of this package asks for, when offered.
  public static let wantedProtocolFeatures =
    VhostUserFeature.protocolMultiQueue | VhostUserFeature.protocolReplyAck
    | VhostUserFeature.protocolConfig

  /// The most queues accepted from `GET_QUEUE_NUM` (the vring index field holds 8 bits).
  public static let maximumQueues = 256

  /// Connects to `path` and negotiates: `SET_OWNER`, `GET_FEATURES`, `GET_PROTOCOL_FEATURES`,
  /// `SET_PROTOCOL_FEATURES`, `GET_QUEUE_NUM`, `GET_CONFIG` (`configurationSize` bytes),
  /// `SET_FEATURES`. `offering` is the device features the driver accepts; virtio 1.x and
  /// vhost-user protocol features are required of the back end. The default configuration
  /// size, 36 bytes, reaches virtio-blk's `num_queues`; a back end refuses (an empty reply)
  /// a size beyond its configuration structure (60 bytes for QEMU 7.2's virtio-blk).
  public init(
    path: String, offering: UInt64, configurationSize: Int = 36,
    replyTimeout: Duration = .seconds(5)
  ) throws(VhostUserError) {
    let milliseconds =
      Int(replyTimeout.components.seconds * 1000)
      + Int(replyTimeout.components.attoseconds / 1_000_000_000_000_000)
    guard milliseconds > 0, milliseconds <= Int(Int32.max) else {
      throw .invalidArgument("reply timeout \(replyTimeout)")
    }
    guard (0...256).contains(configurationSize) else {
      throw .invalidArgument("configuration size \(configurationSize) is not 0...256")
    }
    var channel = try VhostUserChannel(path: path, replyTimeoutMilliseconds: milliseconds)
    _ = try channel.exchange(VhostUserMessage(.setOwner))
    guard
      case .u64(let offered) = try channel.exchange(VhostUserMessage(.getFeatures), expecting: .u64)
    else { throw .malformedReply(.getFeatures, reason: "not a u64") }
    let required = VhostUserFeature.version1 | VhostUserFeature.protocolFeatures
    guard offered & required == required else {
      throw .missingFeature(
        "virtio 1.x and vhost-user protocol features (offered 0x\(String(offered, radix: 16)))")
    }
    guard
      case .u64(let protocolOffered) = try channel.exchange(
        VhostUserMessage(.getProtocolFeatures), expecting: .u64)
    else { throw .malformedReply(.getProtocolFeatures, reason: "not a u64") }
    let agreedProtocol = protocolOffered & Self.wantedProtocolFeatures
    var bytes = LittleEndianBytes()
    bytes.append64(agreedProtocol)
    _ = try channel.exchange(VhostUserMessage(.setProtocolFeatures, payload: bytes.bytes))
    let acknowledge = agreedProtocol & VhostUserFeature.protocolReplyAck != 0

    var queues = 1
    if agreedProtocol & VhostUserFeature.protocolMultiQueue != 0 {
      guard
        case .u64(let count) = try channel.exchange(VhostUserMessage(.getQueueNum), expecting: .u64)
      else { throw .malformedReply(.getQueueNum, reason: "not a u64") }
      guard count >= 1, count <= UInt64(Self.maximumQueues) else {
        throw .malformedReply(.getQueueNum, reason: "\(count) queues")
      }
      queues = Int(count)
    }
    var configuration: [UInt8]?
    if agreedProtocol & VhostUserFeature.protocolConfig != 0, configurationSize > 0 {
      var request = LittleEndianBytes()
      request.append32(0)  // offset
      request.append32(UInt32(configurationSize))
      request.append32(0)  // flags
      let payload = request.bytes + [UInt8](repeating: 0, count: configurationSize)
      guard
        case .config(let space) = try channel.exchange(
          VhostUserMessage(.getConfig, payload: payload),
          expecting: .config(size: configurationSize))
      else { throw .malformedReply(.getConfig, reason: "not a configuration space") }
      configuration = space
    }
    let agreed = offered & (offering | required)
    var featureBytes = LittleEndianBytes()
    featureBytes.append64(agreed)
    _ = try channel.exchange(
      VhostUserMessage(.setFeatures, payload: featureBytes.bytes, needReply: acknowledge))

    self.path = path
    self.features = agreed
    self.protocolFeatures = agreedProtocol
    self.queueCount = queues
    self.configuration = configuration
    self.channel = Mutex(channel)
  }

  /// Whether `SET_` requests are acknowledged (`REPLY_ACK`).
  public var acknowledgesRequests: Bool {
    protocolFeatures & VhostUserFeature.protocolReplyAck != 0
  }

  /// Sends one `SET_` request (acknowledged with `REPLY_ACK`) with `descriptors`.
  func set(_ request: VhostUserRequest, _ payload: [UInt8], descriptors: [Int32] = [])
    throws(VhostUserError)
  {
    let message = VhostUserMessage(request, payload: payload, needReply: acknowledgesRequests)
    try channel.withAnnotatedLock(owner: self) { channel throws(VhostUserError) in
      _ = try channel.exchange(message, descriptors: descriptors)
    }
  }

  /// Sends one `GET_` request and returns its decoded reply.
  func get(_ request: VhostUserRequest, _ payload: [UInt8], expecting: VhostUserReply.Expectation)
    throws(VhostUserError) -> VhostUserReply.Value
  {
    try channel.withAnnotatedLock(owner: self) { channel throws(VhostUserError) in
      guard
        let value = try channel.exchange(
          VhostUserMessage(request, payload: payload), expecting: expecting)
      else { throw VhostUserError.malformedReply(request, reason: "no reply") }
      return value
    }
  }

  /// Throws unless `queue` is one the back end serves.
  func check(queue: Int) throws(VhostUserError) {
    guard queue >= 0, queue < queueCount else {
      throw .invalidArgument("queue \(queue) of \(queueCount)")
    }
  }
}
