/// The front-end requests a virtio-blk device needs, numbered as in QEMU's
/// `docs/interop/vhost-user.rst`.
public enum VhostUserRequest: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// The device features the back end offers.
  case getFeatures = 1
  /// The device features the front end accepts.
  case setFeatures = 2
  /// Claims the back end for this connection.
  case setOwner = 3
  /// Guest memory: regions and their file descriptors.
  case setMemTable = 5
  /// A queue's size.
  case setVringNum = 8
  /// A queue's descriptor table, used ring and available ring.
  case setVringAddr = 9
  /// The next available index the back end reads.
  case setVringBase = 10
  /// Stops a ring and returns its next available index.
  case getVringBase = 11
  /// The eventfd the back end polls for kicks; starts the ring.
  case setVringKick = 12
  /// The eventfd the back end signals for used buffers.
  case setVringCall = 13
  /// The protocol features the back end offers.
  case getProtocolFeatures = 15
  /// The protocol features the front end accepts.
  case setProtocolFeatures = 16
  /// How many queues the back end serves.
  case getQueueNum = 17
  /// Enables or disables a ring.
  case setVringEnable = 18
  /// Reads the device's configuration space.
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
