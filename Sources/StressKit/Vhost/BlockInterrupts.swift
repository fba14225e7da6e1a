import ConcurrentBus
import Glibc
import KVMGuests
import Synchronization
import VhostUser

/// The VMM's interrupt to a block guest: after a call signal, the device's call thread has
/// read the queue's used ring; this writes the used index it reached into the guest's
/// interrupt slot (the guest waits on it, as it would wait for an MSI), and counts the
/// completions, and wakes the guest's vCPU if it idles waiting (an eventfd per queue, as an
/// irqfd would). With `lose-call`, one delivery in `dropEvery` is dropped.
final class BlockInterrupts: Sendable {
  private let layouts: [BlockGuestLayout]
  private let memory: GuestMemoryWindow
  private let dropEvery: Int
  private let deliveries = Atomic<Int>(0)
  private let dropped = Atomic<Int>(0)
  private let state = Mutex<(completions: [Int], violations: [String])>(([], []))
  private let wakeups: [EventFD]

  init(layouts: [BlockGuestLayout], memory: GuestMemoryWindow, dropEvery: Int) throws {
    wakeups = try layouts.map { _ in try EventFD() }
    self.layouts = layouts
    self.memory = memory
    self.dropEvery = dropEvery
    state.withAnnotatedLock(owner: self) {
      $0.completions = Array(repeating: 0, count: layouts.count)
    }
  }

  /// The device's interrupt callback.
  func deliver(
    queue: Int, _ result: Result<[UsedRingCompletion], UsedRingError>, usedIndex: UInt16
  ) {
    switch result {
    case .failure(let error):
      state.withAnnotatedLock(owner: self) { $0.violations.append("queue \(queue): \(error)") }
      return
    case .success(let completions):
      state.withAnnotatedLock(owner: self) { $0.completions[queue] += completions.count }
    }
    // Relaxed: a counter that picks which delivery to drop.
    let count = deliveries.add(1, ordering: .relaxed).newValue
    if dropEvery > 0, count % dropEvery == 0 {
      dropped.add(1, ordering: .relaxed)
      return
    }
    memory.store32(UInt32(usedIndex), at: layouts[queue].interruptSlot)
    _ = wakeups[queue].trySignal()
  }

  /// Called on queue `queue`'s vCPU thread while its guest waits: blocks until an interrupt
  /// for it comes, or a millisecond has passed.
  func idle(queue: Int) {
    guard queue >= 0, queue < wakeups.count else { return }
    var entry = pollfd(fd: wakeups[queue].descriptor, events: Int16(POLLIN), revents: 0)
    if poll(&entry, 1, 1) > 0 { _ = wakeups[queue].drain() }
  }

  /// Completions taken from each queue's used ring.
  var completions: [Int] { state.withAnnotatedLock(owner: self) { $0.completions } }
  /// Used rings the back end wrote against the rules.
  var violations: [String] { state.withAnnotatedLock(owner: self) { $0.violations } }
  /// Deliveries dropped by the fault.
  var droppedDeliveries: Int { dropped.load(ordering: .relaxed) }
}
