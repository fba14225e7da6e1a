/// How much a churn run may hold at once, worked out before it starts from its settings and
/// the process's descriptor limit: what keeps its descriptors and memory bounded whatever
/// the settings and however far the checker falls behind. When a bound is reached the run
/// does less (back-pressure), never queues more.
///
/// - Descriptors: the stable eventfds, two pollers per consumer, one eventfd per plugged
///   churn slot, one per retired slot not yet reconciled (at most ``retiredEventFDs``) and
///   two per open ring (its wakeup, and the signal thread's for an `AsyncSequence`
///   consumer; at most ``openRings``), within RLIMIT_NOFILE (the hard limit, to which the
///   run raises the soft one) less ``DescriptorLimit/reserve``.
/// - Memory: open rings' lanes (vCPUs x capacity x 24 bytes each) within
///   ``ringLaneMemory``; ring values claimed and not yet reconciled (each kept in the
///   claim ledger and the delivery log) at most ``pendingRingValues``: past that, vCPUs skip
///   their ring writes until the checker catches up.
struct ChurnLimits: Sendable, Equatable {
  /// Retired churn eventfds awaiting reconciliation; a slot is not plugged again past it.
  let retiredEventFDs: Int
  /// Rings registered or awaiting their seal and final drain; no ring is registered past it.
  let openRings: Int
  /// Ring values claimed and not yet reconciled; vCPUs skip ring writes past it.
  let pendingRingValues: Int

  /// The memory open rings' lanes may take: 192 MiB.
  static let ringLaneMemory = 192 << 20
  /// Claimed ring values awaiting reconciliation (some 64 bytes each across the claim
  /// ledger and the delivery log): 1,000,000.
  static let maximumPendingRingValues = 1_000_000
  /// At most this many retired churn eventfds wait for reconciliation.
  static let maximumRetiredEventFDs = 4096

  /// The limits for `configuration` within `descriptors` (RLIMIT_NOFILE).
  ///
  /// - Throws: ``OptionError`` when the settings need more descriptors than there are,
  ///   naming both numbers: refused before anything runs.
  init(_ c: ChurnConfiguration, descriptors: Int = DescriptorLimit.available)
    throws(OptionError)
  {
    let fixed = DescriptorLimit.reserve + c.devices + 2 * c.consumers + c.churnDevices
    // Room for at least 16 retired eventfds and, with rings, 4 open rings.
    let least = 16 + (c.rings > 0 ? 2 * 4 : 0)
    guard fixed + least <= descriptors else {
      throw OptionError(
        "these settings need at least \(fixed + least) file descriptors (--devices "
          + "\(c.devices), --churn-devices \(c.churnDevices), --consumers \(c.consumers)); "
          + "this process may open \(descriptors) (ulimit -Hn)")
    }
    let spare = descriptors - fixed
    let laneBytes = c.vcpus * Self.roundedCapacity(c.ringCapacity) * 24
    let byMemory = max(4, Self.ringLaneMemory / max(laneBytes, 1))
    openRings = c.rings == 0 ? 0 : min(byMemory, max(4, spare / 4), 4 * c.rings + 16)
    retiredEventFDs = min(Self.maximumRetiredEventFDs, spare - 2 * openRings)
    pendingRingValues = Self.maximumPendingRingValues
  }

  /// A lane's records as the ring rounds them: a power of two, 2 to 65,536.
  static func roundedCapacity(_ capacity: Int) -> Int {
    let clamped = min(max(capacity, 2), 65536)
    return 1 << (Int.bitWidth - (clamped - 1).leadingZeroBitCount)
  }
}
