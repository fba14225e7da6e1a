import ConcurrentBus
import Glibc
import HostSupport
import KVM
import KVMGuests
import Synchronization

/// Why the coalesced tests cannot run here, or nil.
let coalescingUnavailableReason: String? = {
  if let reason = kvmUnavailableReason { return reason }
  do {
    let system = try system()
    guard try system.coalescedRingPageOffset() != nil else {
      return "coalesced tests skipped: no KVM_CAP_COALESCED_MMIO"
    }
    guard try system.supportsCoalescedPIO() else {
      return "coalesced tests skipped: no KVM_CAP_COALESCED_PIO"
    }
    return nil
  } catch {
    return "coalesced tests skipped: \(error)"
  }
}()

/// What `coalescedChurn` saw.
struct CoalescedChurnReport {
  var violations: [SequenceViolation]
  var executed: [Int]
  var registrations = 0
  var appliedOffVCPU = 0
  var drainedOnVCPUs = 0
  var exitsDispatched = 0
}

/// vCPUs write sequenced values to an MMIO range and a port range while this thread
/// registers and unregisters both as coalesced (bus and zone) over and over, draining
/// through a `SequenceCheckingHandler`: every value must reach the check exactly once, in
/// each vCPU's order, whether a device took it (exit, ring drained by a vCPU or by an
/// unregister) or nothing did (the range was out at that moment).
func coalescedChurn<Flavor: RCUFlavor>(
  flavor: Flavor.Type, vcpus: Int, iterations: Int, seed: UInt64
) throws -> CoalescedChurnReport {
  let mmio: UInt64 = 0xD000_0000
  let port: UInt16 = 0x1000
  let programs = (0..<vcpus).map {
    GuestProgram(
      iterations: iterations, writer: UInt8($0),
      sequencedWrites: [
        .init(space: .mmio, address: mmio, size: 8), .init(space: .pio, address: UInt64(port)),
        .init(space: .mmio, address: mmio + 8),
      ])
  }
  let run = try GuestRun(system: system(), programs: programs)
  let portBus = IOBus(flavor: Flavor.self)
  let mmioBus = IOBus(flavor: Flavor.self)
  let mirror = try KernelCoalescedMirror(vm: run.vm, portBus: portBus, mmioBus: mmioBus)
  let check = SequenceCheck(writers: vcpus)
  let handler = SequenceCheckingHandler(portBus: portBus, mmioBus: mmioBus, check: check)
  let device = SequenceCheckingDevice(check: check)

  let done = Atomic<Bool>(false)
  let hotplug = Mutex((registrations: 0, applied: 0, failure: String?.none))
  let churner = try HostThread {
    var random = SplitMix64(seed: seed)
    while !done.load(ordering: .acquiring) {
      do {
        let inMMIO = try mirror.register(device, space: .mmio, base: mmio, length: 16)
        let inPorts = try mirror.register(device, space: .pio, base: UInt64(port), length: 4)
        usleep(UInt32(random.next() % 400))
        var applied = try mirror.unregister(inMMIO, drainingThrough: handler)
        usleep(UInt32(random.next() % 100))
        applied += try mirror.unregister(inPorts, drainingThrough: handler)
        hotplug.withLock {
          $0.registrations += 2
          $0.applied += applied
        }
        usleep(UInt32(random.next() % 200))
      } catch {
        hotplug.withLock { $0.failure = "\(error)" }
        return
      }
    }
  }
  let statistics: [RunStatistics]
  do {
    statistics = try run.run(handlers: Array(repeating: handler, count: vcpus))
  } catch {
    done.store(true, ordering: .releasing)
    churner.join()
    throw error
  }
  done.store(true, ordering: .releasing)
  churner.join()
  let outcome = hotplug.withLock { $0 }
  if let failure = outcome.failure { throw KVMError.invalidArgument("hotplug: \(failure)") }
  let executed = try (0..<vcpus).map { Int(try run.sequenceCounter(vcpu: $0)) }
  var report = CoalescedChurnReport(
    violations: check.finish(executed: executed), executed: executed)
  report.registrations = outcome.registrations
  report.appliedOffVCPU = outcome.applied
  report.drainedOnVCPUs = statistics.map(\.drainedCoalescedWrites).reduce(0, +)
  report.exitsDispatched = statistics.map { $0.ioExits + $0.mmioExits }.reduce(0, +)
  return report
}
