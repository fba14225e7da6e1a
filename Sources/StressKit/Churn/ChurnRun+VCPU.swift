import ConcurrentBus
import HostSupport
import RCU

extension ChurnRun {
  /// One vCPU thread: random guest accesses, each inside a read-side section of its own
  /// whose epoch the stale-section check reads (``SectionEpochs``); the bus opens its own
  /// section inside it (sections nest).
  ///
  /// Under QSBR the thread is registered (online) for the whole run, announces a quiescent
  /// state after every round of 256 dispatches (as a vCPU would after each exit: it holds
  /// nothing of the bus between rounds, and a round takes well under a millisecond, so a
  /// grace period waits about one round), and goes offline while it flushes its claims (a
  /// lock, which may block). Every other flavor compiles those calls away.
  func dispatch(vcpu: Int) {
    Flavor.registerCurrentThread()
    defer { Flavor.unregisterCurrentThread() }
    let c = configuration
    var rng = SplitMix64(seed: c.seed &+ UInt64(vcpu + 1) &* 0x9E37_79B9_7F4A_7C15)
    var tally = VCPUTally(stableClaims: Array(repeating: 0, count: c.devices))
    let stableIDs = stable.map(\.registration.id)
    let modelID = model.id
    var claimed: UInt64 = 0
    var churnClaims: [RegistrationID: UInt64] = [:]
    var ringState = VCPURingState()
    rings?.record(producer: RingProducer.current, vcpu: vcpu)
    // Kinds 20..<24 are ring accesses, when there are rings.
    let kinds: UInt64 = rings == nil ? 20 : 24
    var rounds = 0
    var ringWritesSkipped: UInt64 = 0
    while !stopDispatch.isSet {
      // Back-pressure: while the ring checker is behind, this round's ring accesses are
      // skipped (the random choices stay the same, so the rest of the round is too).
      let ringsAccepted = rings?.acceptsRingWrites ?? false
      var skippedThisRound: UInt64 = 0
      for _ in 0..<256 {
        let random = rng.next()
        let pick = Int(truncatingIfNeeded: (random >> 16) & 0xFFFF)
        let kind = random % kinds
        if kind >= 20 {
          if ringsAccepted {
            ringDispatch(kind: kind, pick: pick, random: random, vcpu: vcpu, state: &ringState)
          } else {
            skippedThisRound &+= 1
          }
          continue
        }
        // A separate word for the range devices: it picks how long they linger, and must
        // not be tied to the bits that chose this access.
        let deviceWord = kind >= 18 ? rng.next() : 0
        sections.enter(vcpu, flavor: Flavor.self)
        let result = access(kind: kind, pick: pick, random: random, deviceWord: deviceWord)
        sections.leave(vcpu, flavor: Flavor.self)
        if result != .unclaimed { claimed &+= 1 }
        switch kind {
        case 0..<8:
          let index = pick % c.devices
          if result == .claimed(stableIDs[index]) {
            tally.stableClaims[index] += 1
          } else {
            violations.record(
              .lostSignal,
              "vCPU \(vcpu): matching write to stable registration \(stableIDs[index]) answered \(result)"
            )
          }
        case 8..<11:
          checkFallThrough(
            result, vcpu: vcpu, modelID: modelID, what: "non-matching write at a stable address")
        case 11..<16:
          switch result {
          case .claimed(let id) where id != modelID: churnClaims[id, default: 0] += 1
          case .claimed: break
          case .unclaimed:
            violations.record(
              .lostSignal, "vCPU \(vcpu): a churned eventfd address fell through to nothing")
          }
        case 16..<18:
          checkFallThrough(
            result, vcpu: vcpu, modelID: modelID, what: "non-matching write at a churned address")
        default:
          break
        }
      }
      tally.dispatches &+= 256 - skippedThisRound
      counters.add(.dispatches, 256 - skippedThisRound)
      vcpuDispatches[vcpu].value.add(256 - skippedThisRound, ordering: .relaxed)
      ringWritesSkipped &+= skippedThisRound
      rounds += 1
      Flavor.quiescentState()
      if rounds % 64 == 0 {
        Flavor.threadOffline()
        claims.flush(churnClaims, vcpu: vcpu)
        churnClaims.removeAll(keepingCapacity: true)
        flushRings(&ringState, vcpu: vcpu)
        Flavor.threadOnline()
      }
    }
    Flavor.threadOffline()
    claims.flush(churnClaims, vcpu: vcpu)
    flushRings(&ringState, vcpu: vcpu)
    rings?.skipped(ringWritesSkipped)
    counters.add(.ringWrites, ringState.written)
    counters.add(.claimed, claimed + ringState.claimed)
    counters.add(.unclaimed, tally.dispatches - claimed - ringState.claimed)
    vcpuResults.withAnnotatedLock(owner: self) { $0.append(tally) }
  }

  /// One guest access of kind `kind` (0..<20): matching and non-matching writes at stable
  /// and churned eventfd addresses, and writes or reads inside churned range devices.
  @inline(__always)
  private func access(kind: UInt64, pick: Int, random: UInt64, deviceWord: UInt64)
    -> DispatchResult
  {
    let c = configuration
    switch kind {
    case 0..<8:
      let index = pick % c.devices
      return bus.write(
        address: ChurnLayout.stableAddress(index), size: ChurnLayout.accessSize,
        value: ChurnLayout.stableValue(index))
    case 8..<11:
      let index = pick % c.devices
      return bus.write(
        address: ChurnLayout.stableAddress(index), size: ChurnLayout.accessSize,
        value: ChurnLayout.stableMismatch(index))
    case 11..<16:
      return bus.write(
        address: ChurnLayout.churnEventAddress(pick % c.churnDevices),
        size: ChurnLayout.accessSize, value: ChurnLayout.churnValue)
    case 16..<18:
      return bus.write(
        address: ChurnLayout.churnEventAddress(pick % c.churnDevices),
        size: ChurnLayout.accessSize, value: ChurnLayout.churnMismatch)
    default:
      let address = ChurnLayout.churnRangeBase(pick % c.churnDevices) + UInt64(pick % 1024) * 4
      if random & (1 << 40) == 0 {
        return bus.write(address: address, size: ChurnLayout.accessSize, value: deviceWord)
      }
      return bus.read(address: address, size: ChurnLayout.accessSize) == nil
        ? .unclaimed : .claimed(model.id)
    }
  }

  @inline(__always)
  func checkFallThrough(
    _ result: DispatchResult, vcpu: Int, modelID: RegistrationID, what: String
  ) {
    guard result != .claimed(modelID) else { return }
    if case .claimed(let id) = result {
      violations.record(.spuriousSignal, "vCPU \(vcpu): \(what) was claimed by registration \(id)")
    } else {
      violations.record(
        .lostSignal, "vCPU \(vcpu): \(what) did not fall through to the device model")
    }
  }
}
