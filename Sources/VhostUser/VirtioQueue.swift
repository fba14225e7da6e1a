public import ConcurrentBus
import Synchronization

/// One virtqueue of a vhost-user device, seen from the VMM: its vring on the back end, its
/// kick eventfd bound to the guest's notify address through a ``KickNotifier``, and the call
/// eventfd the back end signals.
///
/// The guest drives the ring itself (descriptors, available ring, used ring in its memory);
/// the VMM starts and stops the ring on the back end, and switches the kick notifier the
/// way VMMs do: a new eventfd (``switchKick()``), the notify region moved
/// (``moveNotify(to:)``), the queue stopped and started (``stop()``, ``start(call:)``).
///
/// Sendable: the state lives under a mutex, held across each operation's back-end requests
/// (so two operations on one queue never interleave) and never across a grace-period wait
/// (every notifier call defers its release), so a vCPU may call in from a device callback.
public final class VirtioQueue<Notifier: KickNotifier>: Sendable {
  /// The queue's index on the device and the back end.
  public let index: Int
  /// Where the guest keeps the ring.
  public let layout: SplitQueueLayout
  /// The back end.
  public let frontend: VhostUserFrontend
  /// How kicks reach the kick eventfd.
  public let notifier: Notifier
  /// Guest memory, for translating ring addresses.
  public let memory: GuestMemoryWindow
  let state: Mutex<KickSwitchContext<Notifier>.State>
  /// The kick eventfd the back end watches now, under a lock of its own that release
  /// callbacks take (they may run inside an operation holding `state`).
  let currentKick = Mutex<EventFD?>(nil)
  let counters = QueueCounters()

  /// A stopped queue whose guest kicks by writing `index` to `notifyAddress`.
  public init(
    index: Int, layout: SplitQueueLayout, notifyAddress: UInt64, frontend: VhostUserFrontend,
    notifier: Notifier, memory: GuestMemoryWindow
  ) throws(VirtioQueueError) {
    guard memory.contains(layout.descriptorTable, length: layout.byteCount) else {
      throw .state("queue \(index) lies outside guest memory")
    }
    do {
      try frontend.check(queue: index)
    } catch {
      throw .vhostUser(error)
    }
    self.index = index
    self.layout = layout
    self.frontend = frontend
    self.notifier = notifier
    self.memory = memory
    state = Mutex(.init(notifyAddress: notifyAddress))
  }

  /// Whether the ring runs on the back end.
  public var isRunning: Bool { state.withAnnotatedLock(owner: self) { $0.kick != nil } }

  /// The guest-physical address the guest's kicks go to.
  public var notifyAddress: UInt64 { state.withAnnotatedLock(owner: self) { $0.notifyAddress } }

  /// What the queue's operations have done so far.
  public var statistics: QueueStatistics { counters.snapshot }

  /// Starts the ring: `SET_VRING_NUM`, `SET_VRING_BASE` (where it stopped), `SET_VRING_ADDR`,
  /// `SET_VRING_KICK` with a new kick eventfd, `SET_VRING_CALL` with `call`, the notifier
  /// bound, `SET_VRING_ENABLE`, and one kick injected (the back end may have missed one
  /// while stopped; a spurious kick costs it one look at the ring).
  public func start(call: EventFD) throws(VirtioQueueError) {
    try state.withAnnotatedLock(owner: self) { (state) throws(VirtioQueueError) in
      guard state.kick == nil else { throw .state("queue \(index) is already running") }
      let kick = try makeEventFD()
      try backend { () throws(VhostUserError) in
        try frontend.setVringSize(queue: index, size: layout.size)
        try frontend.setVringBase(queue: index, index: state.nextAvailable)
        try frontend.setVringAddresses(
          queue: index, descriptorTable: userspace(layout.descriptorTable),
          usedRing: userspace(layout.usedRing), availableRing: userspace(layout.availableRing))
        try frontend.setVringKick(queue: index, eventFD: kick.descriptor)
        try frontend.setVringCall(queue: index, eventFD: call.descriptor)
      }
      do throws(KickNotifierError) {
        state.binding = try notifier.bind(kick, address: state.notifyAddress, value: UInt64(index))
      } catch {
        throw .notifier(error)
      }
      state.kick = kick
      currentKick.withAnnotatedLock(owner: self) { $0 = kick }
      try backend { () throws(VhostUserError) in try frontend.setVringEnabled(queue: index, true) }
      _ = kick.trySignal()
      counters.starts.add(1, ordering: .relaxed)
    }
  }

  /// Stops the ring: `GET_VRING_BASE` (kept for the next start), then the notifier unbound;
  /// its kick eventfd closes once nothing can signal it. The guest must not have requests in
  /// flight (a driver stops a queue it no longer uses).
  public func stop() throws(VirtioQueueError) {
    try state.withAnnotatedLock(owner: self) { (state) throws(VirtioQueueError) in
      guard state.kick != nil, let binding = state.binding else {
        throw .state("queue \(index) is not running")
      }
      let next = try backend { () throws(VhostUserError) in try frontend.stopVring(queue: index) }
      state.nextAvailable = next
      state.kick = nil
      currentKick.withAnnotatedLock(owner: self) { $0 = nil }
      state.binding = nil
      do throws(KickNotifierError) {
        try notifier.unbind(binding) {}
      } catch {
        throw .notifier(error)
      }
      counters.stops.add(1, ordering: .relaxed)
    }
  }

  /// Switches the kick to a new eventfd while the guest keeps kicking, as QEMU does: the
  /// back end is told first (`SET_VRING_KICK`), the notifier is switched in one publish,
  /// and the old eventfd is read right after and again once nothing can signal it any more:
  /// a kick that landed there after the back end stopped watching it is passed on
  /// (``renotify(from:)``).
  public func switchKick() throws(VirtioQueueError) {
    try withKickSwitch { (context) throws(VirtioQueueError) in
      guard let old = context.kick else { throw .state("queue \(index) is not running") }
      let new = try context.makeEventFD()
      try context.setBackendKick(new)
      try context.rebind(to: new) { [self] in renotify(from: old) }
      // At once too: a kick the kernel absorbed into the old eventfd before the switch is
      // passed on now, not a grace period later (the release still catches a kick a vCPU
      // was dispatching to the old eventfd through the bus during the switch).
      renotify(from: old)
    }
  }

  /// Reads `old`, a kick eventfd nothing signals any more, and passes a kick found there on
  /// to the eventfd the back end watches now (counted in
  /// ``QueueStatistics/renotifiedKicks``). The current eventfd is read and signalled under
  /// its lock, and a switch replaces it under that lock before its own release can read the
  /// old one: so the kick lands on an eventfd that is either still watched or still to be
  /// read, however releases of successive switches interleave.
  public func renotify(from old: EventFD) {
    currentKick.withAnnotatedLock(owner: self) { current in
      guard old.drain() > 0, let current else { return }
      _ = current.trySignal()
      counters.renotifiedKicks.add(1, ordering: .relaxed)
    }
  }

  /// Moves the notify address (the guest moved the notify region), keeping the eventfd.
  public func moveNotify(to address: UInt64) throws(VirtioQueueError) {
    try state.withAnnotatedLock(owner: self) { (state) throws(VirtioQueueError) in
      if let binding = state.binding {
        do throws(KickNotifierError) {
          state.binding = try notifier.move(binding, to: address)
        } catch {
          throw .notifier(error)
        }
      }
      state.notifyAddress = address
      counters.moves.add(1, ordering: .relaxed)
    }
  }

  /// Runs `body` with the queue's kick-switch steps under the queue's lock: the way
  /// ``switchKick()`` orders them, or another order a VMM (or a checker's fault) chooses.
  public func withKickSwitch<Result>(
    _ body: (inout KickSwitchContext<Notifier>) throws(VirtioQueueError) -> Result
  ) throws(VirtioQueueError) -> Result {
    try state.withAnnotatedLock(owner: self) { (state) throws(VirtioQueueError) in
      var context = KickSwitchContext(queue: self, state: state)
      defer { state = context.state }
      let result = try body(&context)
      counters.kickSwitches.add(1, ordering: .relaxed)
      return result
    }
  }

  /// The address in this process of guest-physical `address` (inside guest memory: the
  /// initializer checked the whole ring).
  func userspace(_ address: UInt64) -> UInt64 {
    UInt64(UInt(bitPattern: memory.base)) + (address - memory.guestPhysicalAddress)
  }

  func backend<Result>(_ requests: () throws(VhostUserError) -> Result) throws(VirtioQueueError)
    -> Result
  {
    do {
      return try requests()
    } catch {
      throw .vhostUser(error)
    }
  }

  func makeEventFD() throws(VirtioQueueError) -> EventFD {
    do {
      return try EventFD()
    } catch {
      throw .eventFD(error)
    }
  }
}
