import ConcurrentBus
import RCU

/// What one vCPU thread keeps about its ring writes between flushes.
struct VCPURingState {
  /// Ring writes issued so far: the count each value carries (``RingValue``).
  var written: UInt64 = 0
  /// Ring accesses some registration claimed (a ring, or the model for a fall-through).
  var claimed: UInt64 = 0
  /// Claims by ring registration since the last flush.
  var claims: [RegistrationID: RingClaims] = [:]
}

extension ChurnRun {
  /// One ring access of kind `kind` (20..<24), inside a read-side section of its own that
  /// the stale-section check watches:
  /// - 20..<23: an 8-byte write carrying the vCPU and its count (``RingValue``) at a ring
  ///   slot's place: an exact ring's address, or inside a range ring. A ring's claim is
  ///   logged with the latest retirement read before the write (``RingRetirements``);
  ///   otherwise an exact address must fall through to the device model, a range address
  ///   to nothing;
  /// - 23: a 4-byte write at an exact ring's address, which no ring may claim: it must fall
  ///   through to the device model.
  @inline(__always)
  func ringDispatch(
    kind: UInt64, pick: Int, random: UInt64, vcpu: Int, state: inout VCPURingState
  ) {
    guard let rings else { return }
    let place = Int((random >> 40) & 1)
    if kind == 23 {
      let slot = (pick % ((rings.slots + 1) / 2)) * 2
      sections.enter(vcpu, flavor: Flavor.self)
      let result = bus.write(
        address: RingLayout.origin(slot: slot, place: place), size: RingLayout.mismatchSize,
        value: random)
      sections.leave(vcpu, flavor: Flavor.self)
      if result != .unclaimed { state.claimed &+= 1 }
      checkFallThrough(
        result, vcpu: vcpu, modelID: model.id, what: "a 4-byte write at an exact ring's address")
      return
    }
    let slot = pick % rings.slots
    let exact = RingLayout.isExact(slot: slot)
    let origin = RingLayout.origin(slot: slot, place: place)
    let address = exact ? origin : origin + UInt64(pick % 512) * 8
    state.written &+= 1
    let value = RingValue.make(vcpu: vcpu, count: state.written)
    sections.enter(vcpu, flavor: Flavor.self)
    let seen = rings.retirements.current
    let result = bus.write(address: address, size: RingLayout.valueSize, value: value)
    sections.leave(vcpu, flavor: Flavor.self)
    switch result {
    case .claimed(let id) where id != model.id:
      state.claimed &+= 1
      state.claims[id, default: .none].claim(value, vcpu: vcpu, seen: seen)
    case .claimed:
      state.claimed &+= 1
      if !exact {
        violations.record(
          .spuriousSignal, "vCPU \(vcpu): a range ring's address was claimed by the device model")
      }
    case .unclaimed:
      if exact {
        violations.record(
          .lostSignal, "vCPU \(vcpu): an exact ring's address fell through to nothing")
      }
    }
  }

  /// Hands the ring claims since the last flush to the ring ledger.
  func flushRings(_ state: inout VCPURingState, vcpu: Int) {
    guard let rings else { return }
    rings.flush(state.claims, vcpu: vcpu)
    state.claims.removeAll(keepingCapacity: true)
  }
}
