public import ConcurrentBus
import HostSupport
import Synchronization

/// A virtio-blk device served by a vhost-user back end, on virtio-mmio: its register window
/// is an ``IODevice`` for the MMIO bus, each queue's kick is a notifier on the bus (through
/// `Notifier`), and the queues' call eventfds are read by a thread of the device, which
/// checks each used ring (``UsedRingReader``) and hands what it found to `interrupt`, the
/// VMM's way of telling the guest (an interrupt; here whatever the caller does).
///
/// Sendable: queues and call state live under mutexes; counters are atomic.
public final class VirtioBlockDevice<Notifier: KickNotifier>: IODevice {
  /// What the call thread found on a queue's used ring after a call signal.
  public typealias Interrupt =
    @Sendable (_ queue: Int, Result<[UsedRingCompletion], UsedRingError>, _ usedIndex: UInt16) ->
    Void

  /// The queues, by index.
  public let queues: [VirtioQueue<Notifier>]
  /// The back end.
  public let frontend: VhostUserFrontend
  private let interrupt: Interrupt
  private let allowsNotify: @Sendable (Int, UInt64) -> Bool
  private let calls: [CallSlot]
  private let poller: EventPoller
  private let callQueue = Mutex<[ObjectIdentifier: Int]>([:])
  private let stopping = Atomic<Bool>(false)
  private let thread = Mutex<HostThread?>(nil)
  private let counters = DeviceCounters()

  /// A queue's call eventfd and used-ring reader.
  private final class CallSlot: Sendable {
    struct State {
      var eventFD: EventFD?
      var reader: UsedRingReader
    }
    let state: Mutex<State>
    init(reader: UsedRingReader) { state = Mutex(State(reader: reader)) }
  }

  /// A device whose queue `q` lies at `layouts[q]` with its notify address at first
  /// `notifyAddresses[q]`; the guest may move it only where `allowsNotify(q, address)` says.
  public init(
    frontend: VhostUserFrontend, notifier: Notifier, memory: GuestMemoryWindow,
    layouts: [SplitQueueLayout], notifyAddresses: [UInt64],
    allowsNotify: @escaping @Sendable (Int, UInt64) -> Bool, interrupt: @escaping Interrupt
  ) throws(VirtioQueueError) {
    guard layouts.count == notifyAddresses.count, !layouts.isEmpty,
      layouts.count <= frontend.queueCount
    else {
      throw .state("\(layouts.count) queues for a back end with \(frontend.queueCount)")
    }
    var queues: [VirtioQueue<Notifier>] = []
    var calls: [CallSlot] = []
    for (index, layout) in layouts.enumerated() {
      queues.append(
        try VirtioQueue(
          index: index, layout: layout, notifyAddress: notifyAddresses[index], frontend: frontend,
          notifier: notifier, memory: memory))
      do throws(UsedRingError) {
        calls.append(CallSlot(reader: try UsedRingReader(layout: layout, memory: memory)))
      } catch {
        throw .state("queue \(index): \(error)")
      }
    }
    do {
      poller = try EventPoller()
    } catch {
      throw .eventFD(error)
    }
    self.queues = queues
    self.calls = calls
    self.frontend = frontend
    self.interrupt = interrupt
    self.allowsNotify = allowsNotify
  }

  /// What the device has seen so far.
  public var statistics: DeviceStatistics { counters.snapshot }

  /// Starts queue `queue` with a new call eventfd, and the call thread if it is not running.
  public func start(queue: Int) throws(VirtioQueueError) {
    try startCallThread()
    let call: EventFD
    do {
      call = try EventFD()
      try poller.add(call)
    } catch {
      throw .eventFD(error)
    }
    callQueue.withAnnotatedLock(owner: self) { $0[ObjectIdentifier(call)] = queue }
    do {
      try queues[queue].start(call: call)
    } catch {
      forget(call)
      throw error
    }
    let previous = calls[queue].state.withAnnotatedLock(owner: self) { state in
      defer { state.eventFD = call }
      return state.eventFD
    }
    if let previous { retire(previous, queue: queue) }
  }

  /// Stops queue `queue`; its call eventfd is read one last time and let go.
  public func stop(queue: Int) throws(VirtioQueueError) {
    try queues[queue].stop()
    let call = calls[queue].state.withAnnotatedLock(owner: self) { state in
      defer { state.eventFD = nil }
      return state.eventFD
    }
    if let call { retire(call, queue: queue) }
  }

  /// Stops the call thread (queues stay as they are). Idempotent. Call it before letting
  /// go of the device: the thread holds the device while it runs.
  public func close() {
    // Relaxed: the flag only ends the loop; joining orders everything the thread did.
    stopping.store(true, ordering: .relaxed)
    thread.withAnnotatedLock(owner: self) { $0 }?.join()
  }

  /// Reads a register: identification, and the back end's configuration space.
  public func read(offset: UInt64, size: Int) -> UInt64? {
    switch offset {
    case VirtioMMIO.magicValue: return VirtioMMIO.magic
    case VirtioMMIO.version: return 2
    case VirtioMMIO.deviceID: return VirtioMMIO.blockDeviceID
    case VirtioMMIO.vendorID: return 0x4355_5342  // "BSUC"
    case VirtioMMIO.configuration..<VirtioMMIO.queueControl:
      let start = Int(offset - VirtioMMIO.configuration)
      guard let space = frontend.configuration else { return 0 }
      var value: UInt64 = 0
      for byte in 0..<size where start + byte < space.count {
        value |= UInt64(space[start + byte]) << (8 * byte)
      }
      return value
    default: return 0
    }
  }

  /// Writes a register: a kick no notifier claimed (counted, see ``DeviceStatistics``), a
  /// queue stopped or started, a notify address moved. Runs on the vCPU thread inside a
  /// read-side section: everything it does on the bus is deferred or a move, never a wait.
  public func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    switch offset {
    case VirtioMMIO.queueNotify:
      counters.kicksWithoutNotifier.add(1, ordering: .relaxed)
    case VirtioMMIO.queueControl..<VirtioMMIO.windowSize where size == 4:
      let queue = Int((offset - VirtioMMIO.queueControl) / 16)
      guard queue < queues.count else { return true }
      do throws(VirtioQueueError) {
        switch (offset - VirtioMMIO.queueControl) % 16 {
        case 0 where value == 0: try stop(queue: queue)
        case 0 where value == 1: try start(queue: queue)
        case 4 where allowsNotify(queue, value): try queues[queue].moveNotify(to: value)
        default: counters.refusedControls.add(1, ordering: .relaxed)
        }
      } catch {
        counters.record(failure: "queue \(queue): \(error)")
      }
    default: break
    }
    return true
  }

  private func startCallThread() throws(VirtioQueueError) {
    try thread.withAnnotatedLock(owner: self) { (thread) throws(VirtioQueueError) in
      guard thread == nil else { return }
      do throws(ThreadStartError) {
        thread = try HostThread { self.serveCalls() }
      } catch {
        throw .state("cannot start the call thread: errno \(error.errno)")
      }
    }
  }

  /// The call thread: waits on every call eventfd (20 ms at a time, to notice `close`).
  private func serveCalls() {
    // Relaxed: see `close`.
    while !stopping.load(ordering: .relaxed) {
      let ready: [(eventFD: EventFD, count: UInt64)]
      do {
        ready = try poller.wait(timeout: .milliseconds(20))
      } catch {
        counters.record(failure: "call poller: \(error)")
        return
      }
      for (eventFD, count) in ready where count > 0 {
        guard
          let queue = callQueue.withAnnotatedLock(owner: self, { $0[ObjectIdentifier(eventFD)] })
        else { continue }
        counters.callSignals.add(Int(count), ordering: .relaxed)
        deliver(queue: queue)
      }
    }
  }

  /// Reads queue `queue`'s used ring and hands the result to `interrupt`.
  private func deliver(queue: Int) {
    calls[queue].state.withAnnotatedLock(owner: self) { state in
      let result = Result { () throws(UsedRingError) in try state.reader.takeCompletions() }
      interrupt(queue, result, state.reader.consumed)
    }
  }

  /// A call eventfd the back end no longer signals: read once more, then dropped.
  private func retire(_ call: EventFD, queue: Int) {
    forget(call)
    if call.drain() > 0 { deliver(queue: queue) }
  }

  private func forget(_ call: EventFD) {
    _ = try? poller.remove(call)
    callQueue.withAnnotatedLock(owner: self) { $0[ObjectIdentifier(call)] = nil }
  }
}

/// What a ``VirtioBlockDevice`` has seen.
public struct DeviceStatistics: Sendable, Hashable, Codable {
  /// Kicks that reached the register window: no notifier was registered for them at that
  /// instant. A VMM that switches notifiers correctly never sees one.
  public var kicksWithoutNotifier = 0
  /// Call signals read from the call eventfds.
  public var callSignals = 0
  /// Control writes refused (a notify address the VMM does not allow, a bad value).
  public var refusedControls = 0
  /// Queue operations that failed from the window.
  public var failures = 0
  /// The first such failure.
  public var firstFailure: String?
}

final class DeviceCounters: Sendable {
  let kicksWithoutNotifier = Atomic<Int>(0)
  let callSignals = Atomic<Int>(0)
  let refusedControls = Atomic<Int>(0)
  private let failed = Mutex<(count: Int, first: String?)>((0, nil))

  func record(failure: String) {
    failed.withAnnotatedLock(owner: self) { failed in
      failed.count += 1
      if failed.first == nil { failed.first = failure }
    }
  }

  var snapshot: DeviceStatistics {
    let failed = failed.withAnnotatedLock(owner: self) { $0 }
    return DeviceStatistics(
      kicksWithoutNotifier: kicksWithoutNotifier.load(ordering: .relaxed),
      callSignals: callSignals.load(ordering: .relaxed),
      refusedControls: refusedControls.load(ordering: .relaxed), failures: failed.count,
      firstFailure: failed.first)
  }
}
