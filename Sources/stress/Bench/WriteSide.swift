import StressKit
import HostSupport
import ConcurrentBus
import Glibc
import KVM
import RCU

/// Write-side costs, each from `count` operations on one bus.
struct WriteSideResults: Codable, Sendable {
  /// Registrations on the bus before the measured ones (a VM's devices).
  var preexisting: Int
  /// `register(_:base:length:)`: publishes, never waits for readers.
  var register: SampleSummary
  /// A registration followed by a grace-period wait: what a per-registration
  /// `synchronize` (KVM before 2025) would cost.
  var registerSynchronous: SampleSummary
  /// `unregister(_:)`: publishes, then waits for a grace period.
  var unregisterSynchronous: SampleSummary
  /// `unregister(_:whenReleased:)`: publishes and returns; reclaims later.
  var unregisterDeferred: SampleSummary
  /// `registerEventFD` on the bus, the userspace equivalent of a KVM_IOEVENTFD assign.
  var registerEventFD: SampleSummary
  /// One `update` that registers `count` devices, in nanoseconds (median over rounds).
  var batchNanos: Spread
  /// `count` single `register` calls, end to end, in nanoseconds (median over rounds).
  var singlesNanos: Spread
  /// `count` single synchronous registrations (each followed by a grace period).
  var singlesSynchronousNanos: Spread
  /// KVM_IOEVENTFD assign and deassign, when `/dev/kvm` could be opened.
  var kvmAssign: SampleSummary?
  var kvmDeassign: SampleSummary?
  var kvmUnavailableReason: String?
}

/// Measures the write side. Runs on the calling thread, which registers as a memb reader
/// (liburcu's `call_rcu` requires it).
func measureWriteSide(count: Int, preexisting: Int, rounds: Int) throws -> WriteSideResults {
  MembRCU.registerCurrentThread()
  let device = NullDevice()
  let bus = IOBus()
  _ = try BusTarget(bus: bus, entries: preexisting)
  let firstFree = preexisting + 16
  func base(_ index: Int) -> UInt64 { BenchLayout.base(ofEntry: firstFree + index) }

  var registerTimes: [UInt64] = []
  var unregisterSyncTimes: [UInt64] = []
  var registrations: [Registration] = []
  // The first pass only warms up (allocator, page faults, liburcu's call_rcu thread), so the
  // operations measured later in the function are not favoured by running second.
  for pass in 0..<2 {
    registerTimes = []
    unregisterSyncTimes = []
    registrations = []
    for index in 0..<count {
      let start = monotonicNanos()
      let registration = try bus.register(device, base: base(index), length: BenchLayout.length)
      registerTimes.append(monotonicNanos() - start)
      registrations.append(registration)
    }
    for registration in registrations {
      let start = monotonicNanos()
      try bus.unregister(registration)
      unregisterSyncTimes.append(monotonicNanos() - start)
    }
    if pass == 0 { MembRCU.barrier() }
  }
  var registerSyncTimes: [UInt64] = []
  registrations = []
  for index in 0..<count {
    let start = monotonicNanos()
    let registration = try bus.register(device, base: base(index), length: BenchLayout.length)
    MembRCU.synchronize()
    registerSyncTimes.append(monotonicNanos() - start)
    registrations.append(registration)
  }
  var unregisterDeferredTimes: [UInt64] = []
  for registration in registrations {
    let start = monotonicNanos()
    try bus.unregister(registration) {}
    unregisterDeferredTimes.append(monotonicNanos() - start)
  }
  MembRCU.barrier()

  // Batches against singles, alternating, each on a fresh bus of the same size.
  var batch: [Double] = []
  var singles: [Double] = []
  var singlesSync: [Double] = []
  for _ in 0..<rounds {
    let batchBus = IOBus()
    _ = try BusTarget(bus: batchBus, entries: preexisting)
    var start = monotonicNanos()
    try batchBus.update { (tx: inout IOBusTransaction) throws(IOBusError) in
      for index in 0..<count {
        _ = try tx.register(device, base: base(index), length: BenchLayout.length)
      }
    }
    batch.append(Double(monotonicNanos() - start))

    let singleBus = IOBus()
    _ = try BusTarget(bus: singleBus, entries: preexisting)
    start = monotonicNanos()
    for index in 0..<count {
      _ = try singleBus.register(device, base: base(index), length: BenchLayout.length)
    }
    singles.append(Double(monotonicNanos() - start))

    let syncBus = IOBus()
    _ = try BusTarget(bus: syncBus, entries: preexisting)
    start = monotonicNanos()
    for index in 0..<count {
      _ = try syncBus.register(device, base: base(index), length: BenchLayout.length)
      MembRCU.synchronize()
    }
    singlesSync.append(Double(monotonicNanos() - start))
    MembRCU.barrier()
  }

  // ioeventfd registrations: the bus and KVM, same eventfds, same addresses, same run.
  let eventFDs = try (0..<count).map { _ in try EventFD() }
  func eventAddress(_ index: Int) -> UInt64 { 0xE000_0000 + UInt64(index) * 8 }
  let eventBus = IOBus()
  var registerEventTimes: [UInt64] = []
  for (index, eventFD) in eventFDs.enumerated() {
    let start = monotonicNanos()
    _ = try eventBus.registerEventFD(eventFD, address: eventAddress(index), size: 4, match: .any)
    registerEventTimes.append(monotonicNanos() - start)
  }

  var results = WriteSideResults(
    preexisting: preexisting,
    register: SampleSummary(nanos: registerTimes),
    registerSynchronous: SampleSummary(nanos: registerSyncTimes),
    unregisterSynchronous: SampleSummary(nanos: unregisterSyncTimes),
    unregisterDeferred: SampleSummary(nanos: unregisterDeferredTimes),
    registerEventFD: SampleSummary(nanos: registerEventTimes),
    batchNanos: Spread(batch),
    singlesNanos: Spread(singles),
    singlesSynchronousNanos: Spread(singlesSync))

  do {
    let vm = try KVMSystem().createVirtualMachine()
    let assignments = eventFDs.enumerated().map { index, eventFD in
      IOEventFDAssignment(
        eventFD: eventFD.descriptor, address: eventAddress(index), length: 4, space: .mmio)
    }
    var assignTimes: [UInt64] = []
    for assignment in assignments {
      let start = monotonicNanos()
      try vm.assign(assignment)
      assignTimes.append(monotonicNanos() - start)
    }
    var deassignTimes: [UInt64] = []
    for assignment in assignments {
      let start = monotonicNanos()
      try vm.deassign(assignment)
      deassignTimes.append(monotonicNanos() - start)
    }
    results.kvmAssign = SampleSummary(nanos: assignTimes)
    results.kvmDeassign = SampleSummary(nanos: deassignTimes)
  } catch {
    results.kvmUnavailableReason = "\(error)"
  }
  withExtendedLifetime(eventBus) {}
  return results
}
