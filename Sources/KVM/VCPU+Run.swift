public import CKVM
import Glibc

extension VCPU {
  /// Runs the guest until it executes `hlt`, delivering port and MMIO exits to
  /// `handler` on the calling thread.
  ///
  /// After every exit, writes buffered in the VM's coalesced ring are applied through
  /// `handler` first (``CoalescedRing/drain(through:)``), so the exit in hand, a read above
  /// all, comes after every coalesced write the guest made before it; the ring is drained
  /// at `hlt` too, so every guest write has been applied when this returns.
  ///
  /// `handler`'s thread hooks bracket the run (``GuestIOHandler/beginDispatching()`` first,
  /// ``GuestIOHandler/endDispatching()`` last) and every KVM_RUN
  /// (``GuestIOHandler/willEnterGuest()``, ``GuestIOHandler/didExitGuest()``): with a
  /// ``BusExitHandler`` on a quiescent-state flavor the thread is offline, invisible to grace
  /// periods, whenever it is in the guest.
  ///
  /// Every access is delivered as made by vCPU ``id`` (the handler's `vcpu:` forms), and so
  /// are the coalesced writes this thread applies (the ring does not say which vCPU made
  /// them).
  ///
  /// String I/O (`rep outs`/`rep ins`, `count` > 1) is delivered as `count`
  /// separate accesses in order. KVM_RUN interrupted by a signal is retried. Any
  /// exit other than IO, MMIO and HLT throws `KVMError.unexpectedExit`.
  ///
  /// Inlinable so that callers in other modules get a copy specialized for their
  /// handler type: no existential or witness-table dispatch on the exit path.
  @inlinable
  public func run<Handler: GuestIOHandler>(handler: Handler) throws(KVMError) -> RunStatistics {
    try beginRun()
    defer { endRun() }
    handler.beginDispatching()
    defer { handler.endDispatching() }

    let clock = ContinuousClock()
    let start = clock.now
    var statistics = RunStatistics()
    let runArea = UnsafeMutableRawPointer(run)
    let vcpu = Int(id)

    while true {
      handler.willEnterGuest()
      let result = ckvm_ioctl_int(descriptor, CKVM_RUN, 0)
      let code = errno
      handler.didExitGuest()
      if result != 0 {
        if code == EINTR {
          statistics.interruptedRuns += 1
          continue
        }
        throw .ioctl(name: "KVM_RUN", errno: code)
      }
      statistics.exits += 1
      if let coalescedRing, coalescedRing.hasPendingWrites {
        statistics.drainedCoalescedWrites += coalescedRing.drain(through: handler, vcpu: vcpu)
      }
      let reason = run.pointee.exit_reason
      switch reason {
      case CKVM_EXIT_IO:
        statistics.ioExits += 1
        let io = run.pointee.io
        let size = Int(io.size)
        let count = Int(io.count)
        let port = io.port
        let isOut = io.direction == CKVM_EXIT_IO_OUT
        guard size == 1 || size == 2 || size == 4 else {
          throw .unsupportedAccess("port 0x\(String(port, radix: 16)) size \(size)")
        }
        let data = runArea + Int(io.data_offset)
        for element in 0..<count {
          let slot = data + element * size
          if isOut {
            handler.portWrite(
              port: port, size: size, value: loadLittleEndian(slot, size: size)!, vcpu: vcpu)
          } else {
            _ = storeLittleEndian(
              handler.portRead(port: port, size: size, vcpu: vcpu), to: slot, size: size)
          }
        }
        statistics.portAccesses += count
      case CKVM_EXIT_MMIO:
        statistics.mmioExits += 1
        let mmio = run.pointee.mmio
        let address = mmio.phys_addr
        let size = Int(mmio.len)
        let data = UnsafeMutableRawPointer(ckvm_run_mmio_data(run)!)
        if mmio.is_write != 0 {
          guard let value = loadLittleEndian(data, size: size) else {
            throw .unsupportedAccess("MMIO write at 0x\(String(address, radix: 16)) size \(size)")
          }
          handler.mmioWrite(address: address, size: size, value: value, vcpu: vcpu)
        } else {
          guard
            storeLittleEndian(
              handler.mmioRead(address: address, size: size, vcpu: vcpu), to: data, size: size)
          else {
            throw .unsupportedAccess("MMIO read at 0x\(String(address, radix: 16)) size \(size)")
          }
        }
      case CKVM_EXIT_HLT:
        statistics.elapsed = clock.now - start
        return statistics
      case CKVM_EXIT_FAIL_ENTRY:
        throw .unexpectedExit(
          reason: reason, detail: run.pointee.fail_entry.hardware_entry_failure_reason)
      case CKVM_EXIT_INTERNAL_ERROR:
        throw .unexpectedExit(reason: reason, detail: UInt64(run.pointee.internal.suberror))
      default:
        throw .unexpectedExit(reason: reason, detail: 0)
      }
    }
  }
}
