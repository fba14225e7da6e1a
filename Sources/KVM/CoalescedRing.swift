public import CKVM
public import ConcurrentBus
import Glibc
public import Synchronization

/// The VM's coalesced MMIO/PIO ring: the guest writes KVM buffered for ``CoalescedZone``s,
/// in the order the kernel accepted them, waiting to be applied through the bus.
///
/// One page per VM, shared by every vCPU, so draining is serialized by a lock: entries are
/// dispatched one at a time, in ring order, and an entry is marked consumed (`first`
/// advanced) only after its dispatch has returned. That gives the two promises the run loop
/// needs:
/// - per vCPU, writes are applied in the order the guest made them, whichever thread drains
///   them (a drain never overlaps another, and never skips ahead);
/// - ``hasPendingWrites`` false means every write buffered before the check has been
///   *applied*, not merely taken: a vCPU that sees it can dispatch the exit in hand (a read
///   after coalesced writes sees them).
///
/// Why a lock is acceptable here: it is taken only when the ring holds entries, so exits
/// with nothing buffered (every exit when no zone is registered) pay two loads and no lock;
/// with entries buffered, one exit already costs ~8 us against ~50 ns for a dispatch, and a
/// drain holds the lock for at most one ring's worth (169 entries), the entries present when
/// it started. The holder only dispatches through the bus: device callbacks may never wait
/// for a grace period (the bus refuses registration changes from inside a read-side
/// section), and ``KernelCoalescedMirror`` releases the lock before its bus unregister
/// waits for one. So no thread ever waits for a grace period while holding it, and a vCPU
/// waiting for it never holds up a grace period for long.
///
/// @unchecked Sendable: `ring` points at a page shared with the kernel; every access goes
/// through the acquire/release accessors in CKVM.h, `first` is written only under
/// `drainLock`, and the mapping lives until deinit.
public final class CoalescedRing: @unchecked Sendable {
  @usableFromInline let ring: UnsafeMutablePointer<kvm_coalesced_mmio_ring>
  /// Slots in the ring; it holds at most `slots - 1` writes.
  public let slots: UInt32
  @usableFromInline let drainLock = Mutex(())
  @usableFromInline let malformed = Atomic<Int>(0)
  private let pageSize: Int

  /// Maps the ring page from `vcpuDescriptor` (any vCPU of the VM) at `pageOffset`, the
  /// answer of KVM_CHECK_EXTENSION(KVM_CAP_COALESCED_MMIO). The mapping keeps the page
  /// alive after the vCPU descriptor closes.
  init(vcpuDescriptor: Int32, pageOffset: Int) throws(KVMError) {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let mapped = mmap(
      nil, page, PROT_READ | PROT_WRITE, MAP_SHARED, vcpuDescriptor, off_t(pageOffset * page))
    guard let mapped, mapped != MAP_FAILED else {
      throw .mmap(what: "coalesced MMIO ring", errno: errno)
    }
    ring = mapped.bindMemory(to: kvm_coalesced_mmio_ring.self, capacity: 1)
    slots = ckvm_coalesced_ring_slots(UInt32(page))
    pageSize = page
  }

  deinit { munmap(ring, pageSize) }

  /// Whether writes are buffered or still being applied by a drain on another thread.
  ///
  /// Loads `last`, then `first` (acquire both). Equal means every entry before that `last`
  /// has been dispatched: `first` only moves after a dispatch returns, and can only pass
  /// the loaded `last` by consuming it. Loading them the other way round could see the
  /// kernel wrap `last` around to an old `first` without having synchronized with the drain
  /// that made room for it.
  @inlinable
  public var hasPendingWrites: Bool {
    let last = ckvm_coalesced_ring_last(ring)
    return ckvm_coalesced_ring_first(ring) != last
  }

  /// Entries skipped because no guest write could have produced them (a size other than
  /// 1, 2, 4 or 8, or a port write beyond port 0xFFFF or wider than 4 bytes).
  public var malformedEntries: Int { malformed.load(ordering: .relaxed) }

  /// Applies the buffered writes through `handler`, in ring order, on the calling thread,
  /// as made by vCPU `vcpu` (the ring does not record which vCPU made them: `VCPU.run`
  /// passes its own), and returns how many it dispatched.
  ///
  /// Waits for a drain in progress on another thread, then dispatches the entries present
  /// when it took the lock (at most `slots - 1`). Call it where `handler` may dispatch: on a
  /// vCPU thread after an exit, or inside `handler.beginDispatching()` /
  /// `handler.endDispatching()`. Never from a device callback (the lock is not reentrant).
  @inlinable
  public func drain<Handler: GuestIOHandler>(through handler: Handler, vcpu: Int = 0) -> Int {
    drainLock.withAnnotatedLock(owner: self) { _ in
      var first = ckvm_coalesced_ring_first(ring)
      let last = ckvm_coalesced_ring_last(ring)
      // Only a corrupted page could hold indices outside the ring: apply nothing rather than
      // read outside it.
      guard first < slots, last < slots else { return 0 }
      var dispatched = 0
      while first != last {
        if deliver(ckvm_coalesced_ring_entry(ring, first)!, through: handler, vcpu: vcpu) {
          dispatched += 1
        } else {
          malformed.add(1, ordering: .relaxed)
        }
        first = first + 1 == slots ? 0 : first + 1
        ckvm_coalesced_ring_set_first(ring, first)
      }
      return dispatched
    }
  }

  /// Dispatches one entry as a port or MMIO write; false when it is malformed.
  @inlinable
  func deliver<Handler: GuestIOHandler>(
    _ entry: UnsafePointer<kvm_coalesced_mmio>, through handler: Handler, vcpu: Int
  ) -> Bool {
    let isPort = entry.pointee.pio != 0
    var data = entry.pointee.data
    let address = entry.pointee.phys_addr
    let size = Int(entry.pointee.len)
    let loaded = withUnsafeBytes(of: &data) { loadLittleEndian($0.baseAddress!, size: size) }
    guard let value = loaded else { return false }
    if isPort {
      guard size <= 4, let port = UInt16(exactly: address) else { return false }
      handler.portWrite(port: port, size: size, value: value, vcpu: vcpu)
    } else {
      handler.mmioWrite(address: address, size: size, value: value, vcpu: vcpu)
    }
    return true
  }
}
