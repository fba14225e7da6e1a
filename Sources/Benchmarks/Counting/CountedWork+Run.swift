import CHostSupport
import ConcurrentBus
import HostSupport
import KVM

extension CountedWork {
  /// The operations one counted run makes (the other run makes twice as many): a multiple
  /// of 64, and for the ring no more than half a lane, so that no write is lost.
  public var operations: Int {
    switch self {
    case .ringWrite: 1 << 14
    default: 1 << 15
    }
  }

  /// Sets the workload up, then runs `operations` operations of it on the calling thread;
  /// returns how many went unclaimed (0 unless the bus is broken). The setup does the same
  /// work whatever `operations` is, so that the difference between two runs is the
  /// operations' own cost.
  ///
  /// `injectedSteps` (dispatches only) adds that many opaque additions to every dispatch:
  /// the regression the counted gates must catch, in the probe and nowhere else.
  public func run(operations: Int, injectedSteps: Int = 0) throws -> Int {
    precondition(operations % dispatchesPerCheck == 0, "operations must be a multiple of 64")
    switch self {
    case .dispatch(let design, let entries):
      let counted = CountedDispatches(
        entries: entries, batches: operations / dispatchesPerCheck, injectedSteps: injectedSteps)
      return switch design {
      case .floor: counted.run(try BusTarget<UnsynchronizedFlavor>(entries: entries))
      case .memb: counted.run(try BusTarget<MembRCU>(entries: entries))
      case .qsbr: counted.run(try BusTarget<QSBRRCU>(entries: entries))
      case .bp: counted.run(try BusTarget<BulletproofRCU>(entries: entries))
      case .mb: counted.run(try BusTarget<MemoryBarrierRCU>(entries: entries))
      case .rwlock: counted.run(try BusTarget<RWLockFlavor>(entries: entries))
      case .mutex: counted.run(try BusTarget<MutexFlavor>(entries: entries))
      case .swapped: counted.run(try SwappedTarget(entries: entries))
      }
    case .eventFDSignal:
      return try countEventFDSignals(operations)
    case .ringWrite:
      return try countRingWrites(operations)
    case .exitBusPart(let flavor):
      return try flavor.run(CountedExits(operations: operations))
    }
  }

  // Every workload registers in one batch and waits for the retired table's reclamation
  // before its loop: then the flavor's reclaimer has one work, sleeps through the loop, and
  // never polls (polling is timed, so its instructions would differ from run to run).

  private func countEventFDSignals(_ operations: Int) throws -> Int {
    MembRCU.registerCurrentThread()
    let registrations = 64
    let eventFDs = try (0..<registrations).map { _ in try EventFD() }
    let bus = IOBus()
    let base: UInt64 = 0xE000_0000
    try bus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for (index, eventFD) in eventFDs.enumerated() {
        _ = try tx.registerEventFD(
          eventFD, address: base + UInt64(index) * 8, size: 4, match: .any)
      }
    }
    MembRCU.barrier()
    let addresses = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 1 << 12)
    defer { addresses.deallocate() }
    var random = SplitMix64(seed: 7)
    for index in addresses.indices {
      addresses[index] = base + UInt64(Int.random(in: 0..<registrations, using: &random)) * 8
    }
    evictSimulatedCaches()
    return countedWrites(bus, addresses: addresses, size: 4, operations: operations)
  }

  private func countRingWrites(_ operations: Int) throws -> Int {
    MembRCU.registerCurrentThread()
    let address: UInt64 = 0xE000_0000
    let wakeup = try EventFD()
    var ring: ValueRing?
    let bus = try BusTarget<MembRCU>(entries: 64) {
      (tx: inout IOBusTransaction) throws(IOBusError) in
      // The largest lane: 65,536 records.
      ring = try tx.registerRing(
        address: address, size: 8, match: .any, capacity: 1 << 16, wakeup: wakeup)
    }.bus
    MembRCU.barrier()
    let addresses = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 1)
    defer { addresses.deallocate() }
    addresses[0] = address
    evictSimulatedCaches()
    let unclaimed = countedWrites(bus, addresses: addresses, size: 8, operations: operations)
    precondition(ring?.statistics.lost == 0, "a counted ring write was lost")
    return unclaimed
  }
}

/// Counted dispatches of one design: the timed benchmark's reader loop without the clock.
private struct CountedDispatches {
  let entries: Int
  let batches: Int
  let injectedSteps: Int

  func run<Target: ReadTarget>(_ target: Target) -> Int {
    target.barrier()
    target.prepareThread()
    let addresses = AddressTable(threads: 1, entries: entries, perThread: 1 << 14)
    evictSimulatedCaches()
    let unclaimed =
      injectedSteps > 0
      ? countedDispatches(
        InjectedWork(target: target, steps: injectedSteps), addresses.pointers[0],
        batches: batches)
      : countedDispatches(target, addresses.pointers[0], batches: batches)
    // Under qsbr the thread goes offline, so that a caller that goes on (a test) never holds
    // back a grace period; the other designs do nothing here.
    target.enterGuest()
    return unclaimed
  }
}

/// `batches` rounds of ``dispatchesPerCheck`` dispatches, each followed by the design's
/// quiescent state, exactly as a busy reader of the timed benchmark runs them.
@inline(never)
private func countedDispatches<Target: ReadTarget>(
  _ target: Target, _ addresses: UnsafeMutableBufferPointer<UInt64>, batches: Int
) -> Int {
  var cursor = AddressCursor(addresses)
  var unclaimed = 0
  for _ in 0..<batches {
    unclaimed &+= cursor.dispatch(dispatchesPerCheck, to: target)
    target.quiescentState()
  }
  return unclaimed
}

/// `operations` writes of `size` bytes, to `addresses` in turn (a power-of-two count).
@inline(never)
private func countedWrites(
  _ bus: IOBus<MembRCU>, addresses: UnsafeMutableBufferPointer<UInt64>, size: Int,
  operations: Int
) -> Int {
  let mask = addresses.count &- 1
  var unclaimed = 0
  for index in 0..<operations {
    if bus.write(address: addresses[index & mask], size: size, value: UInt64(index)) == .unclaimed {
      unclaimed &+= 1
    }
  }
  return unclaimed
}

/// A design with a deliberate regression: `steps` additions the optimizer cannot remove,
/// before every dispatch. Only the probe's `--inject` builds one, to show the gates fail.
private struct InjectedWork<Target: ReadTarget>: ReadTarget {
  let target: Target
  let steps: Int

  @inline(__always)
  func dispatch(address: UInt64) -> Bool {
    var sum = 0
    for _ in 0..<steps { sum &+= chost_opaque_word(1) }
    return target.dispatch(address: address &+ UInt64(chost_opaque_word(sum) &- sum))
  }

  func prepareThread() { target.prepareThread() }
  func prepareWriter() { target.prepareWriter() }
  func barrier() { target.barrier() }
  @inline(__always) func quiescentState() { target.quiescentState() }
  func enterGuest() { target.enterGuest() }
  func leaveGuest() { target.leaveGuest() }
  func churn(_ registration: Registration?) -> Registration? { target.churn(registration) }
}

/// The bus's part of `operations` KVM exits on one flavor (see ``CountedWork/exitBusPart(_:)``).
private struct CountedExits: FlavorGenericWork {
  let operations: Int

  func run<Flavor: RCUFlavor>(_ flavor: Flavor.Type) throws -> Int {
    let others = try (0..<ExitPathComparison.otherDevices).map { _ in try EventFD() }
    let counter = CountingDevice()
    let handler = BusExitHandler(
      portBus: try ExitPathComparison.busPath(flavor, others: others, counter: counter),
      mmioBus: IOBus(flavor: flavor))
    Flavor.barrier()
    handler.beginDispatching()
    evictSimulatedCaches()
    countedExits(handler, operations: operations)
    handler.endDispatching()
    withExtendedLifetime(others) {}
    return operations - Int(counter.count.load(ordering: .relaxed))
  }
}

/// What the vCPU thread does around each of `operations` exits, minus KVM_RUN itself.
@inline(never)
private func countedExits<Flavor: RCUFlavor>(_ handler: BusExitHandler<Flavor>, operations: Int) {
  for _ in 0..<operations {
    handler.willEnterGuest()
    handler.didExitGuest()
    handler.portWrite(
      port: ExitPathComparison.port, size: 4, value: ExitPathComparison.value)
  }
}
