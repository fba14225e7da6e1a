public import ConcurrentBus

/// Why a queue operation failed. The queue's state is as the message says: a step that
/// failed half-way leaves the queue stopped, never with a notifier pointing at an eventfd
/// the back end does not watch.
public enum VirtioQueueError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The back end refused or failed (it may have died: the error says).
  case vhostUser(VhostUserError)
  /// The kick notifier could not be bound, moved or switched.
  case notifier(KickNotifierError)
  /// An eventfd could not be made.
  case eventFD(EventFDError)
  /// The operation does not apply in the queue's state (`start` on a running queue).
  case state(String)

  public var description: String {
    switch self {
    case .vhostUser(let error): "vhost-user: \(error)"
    case .notifier(let error): "kick notifier: \(error)"
    case .eventFD(let error): "eventfd: \(error)"
    case .state(let what): what
    }
  }
}
