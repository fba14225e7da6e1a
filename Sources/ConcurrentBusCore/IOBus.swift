import HostSupport
import RCU
import Synchronization

/// An address space (MMIO or port I/O) whose guest accesses are dispatched without locks.
///
/// vCPU threads call ``write(address:size:value:vcpu:)`` and ``read(address:size:vcpu:)`` inside an
/// RCU read-side section on an immutable snapshot of the device table. Registering and
/// unregistering copy the table, change the copy, publish it, and reclaim the old one after
/// a grace period; writers are serialized by a lock readers never touch.
///
/// Devices may change any bus from their own callbacks (a PCI config write moving a BAR, a
/// virtio status write turning queue notifiers on): everything that does not have to wait
/// for a grace period is allowed inside a read-side section (see
/// ``update(reclaim:_:)-76alb`` for the rules and why they cannot deadlock).
///
/// `Flavor` picks the grace-period mechanism: `IOBus()` is on liburcu's memb flavor
/// (``/RCU/MembRCU``), which serves readers on any thread; `IOBus(flavor: QSBRRCU.self)` suits
/// vCPU threads that announce quiescent states (``/RCU/QSBRRCU``). Grace periods are per
/// flavor and process-wide: every bus on a flavor waits for every reader of that flavor.
public final class IOBus<Flavor: RCUFlavor>: Sendable {
  @usableFromInline let published: RCUPublished<Flavor, DeviceTable>
  /// The per-thread counters behind ``statistics``.
  @usableFromInline let counters = ShardedCounters<BusCounter>()
  /// What the layers above keep per bus (the devices' eventfd counters).
  package let attachments = BusAttachments()
  let writer: Mutex<BusState>  // Internal, not private: BenchmarkSupport.swift reads it.
  let publishCount = Atomic<UInt64>(0)
  let gracePeriodWaitCount = Atomic<UInt64>(0)
  /// What waits for a grace period (``reclamationBacklog``).
  let reclamations = ReclamationLedger()

  /// This bus's process-unique identity, carried by every registration it issues.
  public let identity: BusIdentity
  /// The kind of address this bus dispatches: what it accepts as registrations.
  public let space: IOAddressSpace

  /// The most entries (ranges and value matches together) the bus holds: an update that
  /// would leave more throws ``IOBusError/tableFull(limit:)`` and changes nothing.
  public let maximumEntries: Int

  /// Creates an empty bus on the given RCU flavor, for `space` (MMIO unless told), holding
  /// at most `maximumEntries` entries (unlimited unless told; a negative limit counts as 0,
  /// a bus that refuses every registration).
  public init(flavor: Flavor.Type, space: IOAddressSpace = .mmio, maximumEntries: Int = .max) {
    identity = BusIdentity.next()
    self.space = space
    self.maximumEntries = max(maximumEntries, 0)
    let empty = DeviceTable(matched: [], ranges: [])
    var state = BusState(bus: identity, space: space, maximumEntries: self.maximumEntries)
    state.publishedTableBytes = empty.allocatedBytes
    writer = Mutex(state)
    published = RCUPublished(empty)
  }

  // MARK: - Dispatch (vCPU threads)

  /// Offers a guest write by vCPU `vcpu` to the bus.
  ///
  /// Value-matched entries at `address` are tried first, in registration order, then the
  /// range that contains the whole access. Any input is safe: a size outside 1...8, or an
  /// access that would wrap past 2^64, is simply unclaimed (so is, on a port-I/O bus, any
  /// access reaching past port 0xFFFF: nothing can be registered there). Only the low
  /// `size` bytes of `value` are used. `vcpu` reaches the device as is
  /// (``IODevice/write(offset:size:value:vcpu:)``); the bus itself never uses it, so any
  /// value is safe here too.
  ///
  /// The whole path (validation, read-side section, binary search, the device call) takes
  /// no lock, allocates nothing, touches no reference count and writes no shared cache line;
  /// `Scripts/check-hot-path.sh` checks the optimized machine code on every CI run.
  @inlinable
  public func write(address: UInt64, size: Int, value: UInt64, vcpu: Int) -> DispatchResult {
    guard let access = GuestAccess(address: address, size: size) else {
      counters.add(.unclaimedWrites)
      return .unclaimed
    }
    let value = access.truncate(value)
    let result = published.read { table in table.write(access, value: value, vcpu: vcpu) }
    if result == .unclaimed { counters.add(.unclaimedWrites) }
    return result
  }

  /// Offers a guest read of 1 to 8 bytes by vCPU `vcpu` to the range that contains it; `nil`
  /// when nothing claims it. The result holds only the low `size` bytes of what the device
  /// returned. `vcpu` reaches the device as is (``IODevice/read(offset:size:vcpu:)``).
  @inlinable
  public func read(address: UInt64, size: Int, vcpu: Int) -> UInt64? {
    guard let access = GuestAccess(address: address, size: size) else {
      counters.add(.unclaimedReads)
      return nil
    }
    guard let value = published.read({ table in table.read(access, vcpu: vcpu) }) else {
      counters.add(.unclaimedReads)
      return nil
    }
    return access.truncate(value)
  }

  /// Offers a guest write to the bus as vCPU 0: ``write(address:size:value:vcpu:)``.
  @inlinable
  public func write(address: UInt64, size: Int, value: UInt64) -> DispatchResult {
    write(address: address, size: size, value: value, vcpu: 0)
  }

  /// Offers a guest read to the bus as vCPU 0: ``read(address:size:vcpu:)``.
  @inlinable
  public func read(address: UInt64, size: Int) -> UInt64? {
    read(address: address, size: size, vcpu: 0)
  }
}

extension IOBus where Flavor == MembRCU {
  /// Creates an empty bus on liburcu's memb flavor, for `space`: `IOBus()` is an MMIO bus,
  /// `IOBus(space: .portIO)` a port-I/O one, `IOBus(maximumEntries: 1000)` an MMIO bus that
  /// refuses an update leaving more than 1000 entries.
  public convenience init(space: IOAddressSpace = .mmio, maximumEntries: Int = .max) {
    self.init(flavor: MembRCU.self, space: space, maximumEntries: maximumEntries)
  }
}
