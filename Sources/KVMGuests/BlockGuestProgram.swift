public import KVM
import VhostUser

/// Generated guest code that drives one virtio-blk queue from inside the guest: per
/// operation it writes a seed-derived pattern to a sector (building the request chain in its
/// own memory, publishing it in the available ring, kicking through the notify address and
/// waiting for the VMM's interrupt slot), reads the sector back and compares, flushes every
/// ``flushEvery`` operations, and every ``churnEvery`` operations stops and restarts its
/// queue, or moves its notify address, through the device's registers (device callbacks on
/// the vCPU thread). Each request's latency (time-stamp counter / 16) goes to guest memory.
///
/// While it waits, the guest idles the way a guest halted for an interrupt would: each turn
/// of its wait loop writes its queue index to ``idlePort``, an exit in which the VMM may
/// block until the interrupt comes (for at most a millisecond: the guest re-checks).
///
/// A request not completed within ``timeoutUnits`` of its kick is written to
/// ``BlockGuestLayout/timedOut`` and the guest halts: it never waits forever.
public struct BlockGuestProgram: Sendable, Hashable {
  /// The vCPU, which picks the seed's stream and the disk region.
  public var vcpu: Int
  /// The queue it drives.
  public var queue: Int
  /// The run's seed.
  public var seed: UInt64
  /// Operations (write, read back, maybe flush) per round.
  public var operationsPerRound: Int
  /// Bytes per request: a multiple of 512, at most 4096.
  public var requestBytes: Int
  /// Request slots in the vCPU's disk region (a power of two).
  public var regionRequests: Int
  /// A flush every this many operations (a power of two).
  public var flushEvery: Int
  /// A queue stop/start (and, half-way, a notify move) every this many operations (a power
  /// of two); 0 for none.
  public var churnEvery: Int
  /// Entries of the queue (a power of two).
  public var queueSize: Int
  /// The device's register window.
  public var windowBase: UInt64
  /// The four notify addresses the guest cycles through; the first is the window's
  /// `QueueNotify`.
  public var notifyAddresses: [UInt64]
  /// How long a request may take after its kick, in time-stamp counter / 16.
  public var timeoutUnits: UInt32
  /// The port the guest writes its queue index to while it waits.
  public var idlePort: UInt8 = 0x80

  /// Describes a program; see the properties.
  public init(
    vcpu: Int, queue: Int, seed: UInt64, operationsPerRound: Int, requestBytes: Int = 4096,
    regionRequests: Int = 64, flushEvery: Int = 8, churnEvery: Int = 16, queueSize: Int = 16,
    windowBase: UInt64, notifyAddresses: [UInt64], timeoutUnits: UInt32
  ) {
    self.vcpu = vcpu
    self.queue = queue
    self.seed = seed
    self.operationsPerRound = operationsPerRound
    self.requestBytes = requestBytes
    self.regionRequests = regionRequests
    self.flushEvery = flushEvery
    self.churnEvery = churnEvery
    self.queueSize = queueSize
    self.windowBase = windowBase
    self.notifyAddresses = notifyAddresses
    self.timeoutUnits = timeoutUnits
  }

  /// Requests one round makes (writes, reads and flushes).
  public var requestsPerRound: Int {
    2 * operationsPerRound + (operationsPerRound + flushEvery - 1) / flushEvery
  }

  /// Sectors per request.
  public var sectorsPerRequest: Int { requestBytes / VirtioBlock.sectorSize }

  /// The first sector of operation `operation`'s request.
  public func sector(operation: UInt32) -> UInt64 {
    UInt64(vcpu * regionRequests * sectorsPerRequest)
      + UInt64(Int(operation) & (regionRequests - 1)) * UInt64(sectorsPerRequest)
  }

  /// The disk bytes a vCPU's region spans.
  public var regionBytes: Int { regionRequests * requestBytes }

  /// The pattern operation `operation` writes: dword `k` is `(operation * 0x9E3779B1 ^
  /// seed') + k * 0x01000193`, with `seed'` the vCPU's 32 bits of the seed.
  public func pattern(operation: UInt32) -> [UInt8] {
    var value = (operation &* 0x9E37_79B1) ^ vcpuSeed
    var bytes: [UInt8] = []
    bytes.reserveCapacity(requestBytes)
    for _ in 0..<(requestBytes / 4) {
      for shift in stride(from: 0, to: 32, by: 8) {
        bytes.append(UInt8(truncatingIfNeeded: value >> shift))
      }
      value &+= 0x0100_0193
    }
    return bytes
  }

  /// The vCPU's 32 bits of the seed.
  var vcpuSeed: UInt32 {
    var mixed = seed ^ (UInt64(vcpu) &* 0x9E37_79B9_7F4A_7C15)
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return UInt32(truncatingIfNeeded: mixed ^ (mixed >> 31))
  }

  /// Checks the parameters.
  public func validate() throws(KVMError) {
    func powerOfTwo(_ value: Int) -> Bool { value > 0 && value & (value - 1) == 0 }
    guard requestBytes % VirtioBlock.sectorSize == 0, (512...4096).contains(requestBytes),
      powerOfTwo(regionRequests), powerOfTwo(flushEvery), churnEvery == 0 || powerOfTwo(churnEvery),
      churnEvery == 0 || churnEvery >= 2, powerOfTwo(queueSize), queueSize >= 4,
      (1...(BlockGuestLayout.latencySlots / 3)).contains(operationsPerRound),
      notifyAddresses.count == 4, queue >= 0, queue < 64,
      windowBase + VirtioMMIO.windowSize <= UInt64(UInt32.max),
      notifyAddresses.allSatisfy({ $0 + 4 <= UInt64(UInt32.max) })
    else {
      throw .invalidArgument("block guest parameters out of range: \(self)")
    }
  }
}
