/// What went wrong talking to a vhost-user back end. Every failure of the protocol, of the
/// socket or of the back end (which is another process, and not trusted) is one of these;
/// none is a crash.
public enum VhostUserError: Error, Hashable, Sendable, CustomStringConvertible {
  /// connect(2) to the back end's socket failed.
  case connect(path: String, errno: Int32)
  /// Sending `request` failed (EPIPE: the back end is gone).
  case send(VhostUserRequest, errno: Int32)
  /// Receiving the reply to `request` failed.
  case receive(VhostUserRequest, errno: Int32)
  /// The back end closed the connection (it died or hung up) while `request` waited.
  case backendClosed(VhostUserRequest)
  /// No reply to `request` within `milliseconds`: the back end hangs or is overloaded.
  case timeout(VhostUserRequest, milliseconds: Int)
  /// The reply to `request` is not one the protocol allows: `reason` says what is wrong.
  case malformedReply(VhostUserRequest, reason: String)
  /// The back end acknowledged `request` with a non-zero status (`REPLY_ACK`).
  case refused(VhostUserRequest, status: UInt64)
  /// The back end lacks something a virtio-blk front end needs.
  case missingFeature(String)
  /// A caller-supplied value is out of range; nothing was sent.
  case invalidArgument(String)
  /// An earlier failure left the connection in an unknown state; it takes no more requests.
  case connectionBroken(since: String)

  public var description: String {
    switch self {
    case .connect(let path, let errno): "connect to \(path): \(errnoText(errno))"
    case .send(let request, let errno): "\(request): send failed: \(errnoText(errno))"
    case .receive(let request, let errno): "\(request): receive failed: \(errnoText(errno))"
    case .backendClosed(let request): "\(request): the back end closed the connection (it died?)"
    case .timeout(let request, let milliseconds):
      "\(request): no reply within \(milliseconds) ms (the back end hangs?)"
    case .malformedReply(let request, let reason): "\(request): malformed reply: \(reason)"
    case .refused(let request, let status): "\(request): refused by the back end (status \(status))"
    case .missingFeature(let what): "the back end lacks \(what)"
    case .invalidArgument(let what): "invalid argument: \(what)"
    case .connectionBroken(let since): "the connection is unusable since: \(since)"
    }
  }
}

#if canImport(Glibc)
  import Glibc
#endif

/// `strerror` text with the number, for example `EPIPE (32): Broken pipe`.
func errnoText(_ code: Int32) -> String {
  "errno \(code): \(String(cString: strerror(code)))"
}
