import ConcurrentBus
import KVM

/// One block guest's exits: dispatched to the buses as ``BusExitHandler`` does, and kicks
/// (MMIO writes to a notify address) tallied by who took them: a notifier registration on
/// the bus (a kick that exited, as every kick does while KVM's ioeventfd is being switched),
/// the register window (no notifier at that instant), or nobody. A write to the guest's
/// idle port blocks until its interrupt (``BlockInterrupts/idle(queue:)``).
///
/// @unchecked Sendable: the tallies are written only by the vCPU thread that owns this
/// handler and read after it has been joined.
final class VhostExitHandler<Flavor: RCUFlavor>: GuestIOHandler, @unchecked Sendable {
  let dispatcher: BusExitHandler<Flavor>
  let window: RegistrationID
  let notifyAddresses: Set<UInt64>
  let interrupts: BlockInterrupts
  let idlePort: UInt16
  /// Kicks a notifier registration on the bus took.
  private(set) var busKicks = 0
  /// Kicks nothing on the bus took.
  private(set) var unclaimedKicks = 0

  init(
    portBus: IOBus<Flavor>, mmioBus: IOBus<Flavor>, window: RegistrationID,
    notifyAddresses: Set<UInt64>, interrupts: BlockInterrupts, idlePort: UInt16
  ) {
    self.interrupts = interrupts
    self.idlePort = idlePort
    dispatcher = BusExitHandler(portBus: portBus, mmioBus: mmioBus)
    self.window = window
    self.notifyAddresses = notifyAddresses
  }

  /// The guest's idle port waits for its interrupt; other ports go to the bus.
  func portWrite(port: UInt16, size: Int, value: UInt64) {
    if port == idlePort {
      interrupts.idle(queue: Int(value))
    } else {
      dispatcher.portWrite(port: port, size: size, value: value)
    }
  }

  func portRead(port: UInt16, size: Int) -> UInt64 { dispatcher.portRead(port: port, size: size) }

  func mmioWrite(address: UInt64, size: Int, value: UInt64) {
    let result = dispatcher.mmioBus.write(address: address, size: size, value: value)
    guard notifyAddresses.contains(address) else { return }
    switch result {
    case .claimed(let id) where id != window: busKicks += 1
    case .claimed: break
    case .unclaimed: unclaimedKicks += 1
    }
  }

  func mmioRead(address: UInt64, size: Int) -> UInt64 {
    dispatcher.mmioRead(address: address, size: size)
  }

  func beginDispatching() { dispatcher.beginDispatching() }
  func willEnterGuest() { dispatcher.willEnterGuest() }
  func didExitGuest() { dispatcher.didExitGuest() }
  func endDispatching() { dispatcher.endDispatching() }
}
