import HostSupport
import ConcurrentBus
import RCU

/// Eventfd signalling through the bus against the same writes made directly.
struct EventFDResults: Codable, Sendable {
  var registrations: Int
  var operationsPerRound: Int
  /// Nanoseconds per guest write dispatched to an ioeventfd registration.
  var busDispatchNanos: Spread
  /// Nanoseconds per bare `write(2)` to the same eventfds, in the same order.
  var bareWriteNanos: Spread
}

/// One thread; `registrations` eventfds, each registered at its own address; writes drawn
/// uniformly over them. Rounds alternate between the two loops.
func measureEventFDDispatch(registrations: Int, operations: Int, rounds: Int) throws
  -> EventFDResults
{
  MembRCU.registerCurrentThread()
  let eventFDs = try (0..<registrations).map { _ in try EventFD() }
  let bus = IOBus()
  for (index, eventFD) in eventFDs.enumerated() {
    _ = try bus.registerEventFD(
      eventFD, address: 0xE000_0000 + UInt64(index) * 8, size: 4, match: .any)
  }
  var random = SplitMix64(seed: 7)
  let picks = (0..<4096).map { _ in Int.random(in: 0..<registrations, using: &random) }
  let addresses = picks.map { 0xE000_0000 + UInt64($0) * 8 }

  var busNanos: [Double] = []
  var bareNanos: [Double] = []
  for _ in 0..<rounds {
    busNanos.append(timeBusDispatch(bus, addresses: addresses, operations: operations))
    bareNanos.append(timeBareWrites(eventFDs, picks: picks, operations: operations))
    for eventFD in eventFDs { _ = eventFD.drain() }
  }
  return EventFDResults(
    registrations: registrations, operationsPerRound: operations,
    busDispatchNanos: Spread(busNanos), bareWriteNanos: Spread(bareNanos))
}

@inline(never)
private func timeBusDispatch(_ bus: IOBus<MembRCU>, addresses: [UInt64], operations: Int)
  -> Double
{
  let mask = addresses.count - 1
  var unclaimed = 0
  let start = monotonicNanos()
  for index in 0..<operations {
    if bus.write(address: addresses[index & mask], size: 4, value: 1) == .unclaimed {
      unclaimed += 1
    }
  }
  let elapsed = monotonicNanos() - start
  precondition(unclaimed == 0, "an ioeventfd write went unclaimed")
  return Double(elapsed) / Double(operations)
}

@inline(never)
private func timeBareWrites(_ eventFDs: [EventFD], picks: [Int], operations: Int) -> Double {
  let mask = picks.count - 1
  var failed = 0
  let start = monotonicNanos()
  for index in 0..<operations {
    if case .signalled = eventFDs[picks[index & mask]].trySignal() {} else { failed += 1 }
  }
  let elapsed = monotonicNanos() - start
  precondition(failed == 0, "an eventfd write failed")
  return Double(elapsed) / Double(operations)
}
