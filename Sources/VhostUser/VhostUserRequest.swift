/// The front-end requests a virtio-blk device needs, numbered as in QEMU's
/// `docs/interop/vhost-user.rst`.
public enum VhostUserRequest: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  case getFeatures = 1
  case setFeatures = 2
  case setOwner = 3
  case setMemTable = 5
  case setVringNum = 8
  case setVringAddr = 9
  case setVringBase = 10
  case getVringBase = 11
  case setVringKick = 12
  case setVringCall = 13
  case getProtocolFeatures = 15
  case setProtocolFeatures = 16
  case getQueueNum = 17
  case setVringEnable = 18
  case getConfig = 24

  /// The spec's name, for example `VHOST_USER_SET_VRING_KICK`.
  public var description: String {
    switch self {
    case .getFeatures: "VHOST_USER_GET_FEATURES"
    case .setFeatures: "VHOST_USER_SET_FEATURES"
    case .setOwner: "VHOST_USER_SET_OWNER"
    case .setMemTable: "VHOST_USER_SET_MEM_TABLE"
    case .setVringNum: "VHOST_USER_SET_VRING_NUM"
    case .setVringAddr: "VHOST_USER_SET_VRING_ADDR"
    case .setVringBase: "VHOST_USER_SET_VRING_BASE"
    case .getVringBase: "VHOST_USER_GET_VRING_BASE"
    case .setVringKick: "VHOST_USER_SET_VRING_KICK"
    case .setVringCall: "VHOST_USER_SET_VRING_CALL"
    case .getProtocolFeatures: "VHOST_USER_GET_PROTOCOL_FEATURES"
    case .setProtocolFeatures: "VHOST_USER_SET_PROTOCOL_FEATURES"
    case .getQueueNum: "VHOST_USER_GET_QUEUE_NUM"
    case .setVringEnable: "VHOST_USER_SET_VRING_ENABLE"
    case .getConfig: "VHOST_USER_GET_CONFIG"
    }
  }

  /// Whether the back end always answers this request with a reply of its own (the `GET_`
  /// requests); the others are answered only with `REPLY_ACK` and the need-reply flag.
  public var hasReply: Bool {
    switch self {
    case .getFeatures, .getVringBase, .getProtocolFeatures, .getQueueNum, .getConfig: true
    default: false
    }
  }
}

/// Feature bits a virtio-blk front end negotiates: virtio's (device features, through
/// `GET_FEATURES`/`SET_FEATURES`) and vhost-user's protocol features.
public enum VhostUserFeature {
  /// virtio-blk: the device supports `VIRTIO_BLK_T_FLUSH`.
  public static let blockFlush: UInt64 = 1 << 9
  /// virtio-blk: `num_queues` in the configuration space is valid.
  public static let blockMultiQueue: UInt64 = 1 << 12
  /// vhost-user: protocol features exist (rings then start disabled until `SET_VRING_ENABLE`).
  public static let protocolFeatures: UInt64 = 1 << 30
  /// virtio 1.x (the only version libvhost-user serves).
  public static let version1: UInt64 = 1 << 32

  /// Protocol feature: `GET_QUEUE_NUM` answers how many queues the back end has.
  public static let protocolMultiQueue: UInt64 = 1 << 0
  /// Protocol feature: requests with the need-reply flag are acknowledged with a u64.
  public static let protocolReplyAck: UInt64 = 1 << 3
  /// Protocol feature: `GET_CONFIG` reads the device's configuration space.
  public static let protocolConfig: UInt64 = 1 << 9
}
