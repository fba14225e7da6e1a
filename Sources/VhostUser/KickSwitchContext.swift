public import ConcurrentBus

/// The steps of a kick switch on one ``VirtioQueue``, available while
/// ``VirtioQueue/withKickSwitch(_:)`` holds the queue's lock.
public struct KickSwitchContext<Notifier: KickNotifier> {
  /// What a queue keeps under its lock.
  struct State {
    var notifyAddress: UInt64
    var kick: EventFD?
    var binding: Notifier.Binding?
    var nextAvailable: UInt16 = 0
  }

  let queue: VirtioQueue<Notifier>
  var state: State

  /// The kick eventfd the notifier signals now (nil: the queue is stopped).
  public var kick: EventFD? { state.kick }

  /// A new eventfd.
  public func makeEventFD() throws(VirtioQueueError) -> EventFD { try queue.makeEventFD() }

  /// `SET_VRING_KICK`: the back end watches `kick` from now on, and the old one no more.
  public mutating func setBackendKick(_ kick: EventFD) throws(VirtioQueueError) {
    try queue.backend { () throws(VhostUserError) in
      try queue.frontend.setVringKick(queue: queue.index, eventFD: kick.descriptor)
    }
  }

  /// The notifier switched to `kick` in one publish; `released` runs once nothing can
  /// signal the old eventfd any more.
  public mutating func rebind(to kick: EventFD, released: @escaping @Sendable () -> Void)
    throws(VirtioQueueError)
  {
    guard let binding = state.binding else { throw .state("queue \(queue.index) has no notifier") }
    // Before the switch: a release that runs from here on passes its kicks to `kick`.
    queue.currentKick.withAnnotatedLock(owner: queue) { $0 = kick }
    do throws(KickNotifierError) {
      state.binding = try queue.notifier.rebind(binding, to: kick, released: released)
    } catch {
      throw .notifier(error)
    }
    state.kick = kick
  }

  /// The notifier removed; `released` runs once nothing can signal its eventfd any more.
  public mutating func unbind(released: @escaping @Sendable () -> Void) throws(VirtioQueueError) {
    guard let binding = state.binding else { throw .state("queue \(queue.index) has no notifier") }
    do throws(KickNotifierError) {
      try queue.notifier.unbind(binding, released: released)
    } catch {
      throw .notifier(error)
    }
    state.binding = nil
  }

  /// The notifier bound to `kick` at the queue's notify address.
  public mutating func bind(_ kick: EventFD) throws(VirtioQueueError) {
    queue.currentKick.withAnnotatedLock(owner: queue) { $0 = kick }
    do throws(KickNotifierError) {
      state.binding = try queue.notifier.bind(
        kick, address: state.notifyAddress, value: UInt64(queue.index))
    } catch {
      throw .notifier(error)
    }
    state.kick = kick
  }
}
