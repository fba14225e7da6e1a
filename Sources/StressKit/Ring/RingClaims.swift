import ConcurrentBus

/// What the vCPUs' writes to one ring registration were answered: per vCPU, the values the
/// registration claimed, in that vCPU's order, and the latest ring retirement the vCPU had
/// seen before any of those writes (``RingRetirements``).
struct RingClaims: ClaimTally {
  /// One vCPU's claims.
  struct VCPUClaims: Sendable {
    /// The claimed values, in the order the vCPU wrote them.
    var values: [UInt64] = []
    /// The highest retirement index the vCPU had read before a claimed write.
    var latestRetirementSeen: UInt64 = 0

    mutating func append(_ later: VCPUClaims) {
      values += later.values
      latestRetirementSeen = max(latestRetirementSeen, later.latestRetirementSeen)
    }
  }

  /// Claims by vCPU index.
  var byVCPU: [Int: VCPUClaims] = [:]

  static var none: RingClaims { RingClaims() }

  mutating func merge(_ later: RingClaims) {
    for (vcpu, claims) in later.byVCPU { byVCPU[vcpu, default: VCPUClaims()].append(claims) }
  }

  /// Records that vCPU `vcpu` wrote `value` and the registration claimed it, having read
  /// retirement index `seen` before the write.
  @inline(__always)
  mutating func claim(_ value: UInt64, vcpu: Int, seen: UInt64) {
    byVCPU[vcpu, default: VCPUClaims()].values.append(value)
    if seen > byVCPU[vcpu]!.latestRetirementSeen { byVCPU[vcpu]!.latestRetirementSeen = seen }
  }
}
