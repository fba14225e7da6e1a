import ConcurrentBus
import RCU
import Synchronization

/// What the vCPUs count per registration between two flushes, and how two counts add up.
protocol ClaimTally: Sendable {
  /// Nothing claimed.
  static var none: Self { get }
  /// Adds `later`, which a vCPU flushed after what is here already.
  mutating func merge(_ later: Self)
}

extension UInt64: ClaimTally {
  static var none: UInt64 { 0 }
  mutating func merge(_ later: UInt64) { self += later }
}

/// Claims the vCPUs saw per churned registration, flushed from each vCPU's own tally now
/// and then, with the time of each vCPU's last flush.
///
/// A vCPU flushes between dispatches, so once it has flushed after a registration retired,
/// every claim it will ever make for that registration (all from dispatches that began
/// before the unregister returned) is already here.
///
/// One shard per vCPU, each with its own lock: a vCPU's flush never waits for another
/// vCPU's, and the reconciler takes a batch of registrations with one lock per shard. (A
/// single lock here was a convoy with 32 vCPUs on 2 cores: a flush preempted while holding
/// it stalled every other flush and the reconciler for seconds.)
final class ClaimLedger<Claim: ClaimTally>: Sendable {
  private final class Shard: Sendable {
    struct State {
      var claims: [RegistrationID: Claim] = [:]
      var lastFlush: UInt64 = 0
    }
    let state = Mutex(State())
  }

  private let shards: [Shard]

  init(vcpus: Int) {
    shards = (0..<vcpus).map { _ in Shard() }
  }

  /// Adds vCPU `vcpu`'s claims since its last flush.
  func flush(_ claims: [RegistrationID: Claim], vcpu: Int) {
    let now = monotonicNanoseconds()
    let shard = shards[vcpu]
    shard.state.withAnnotatedLock(owner: shard) { state in
      for (id, claim) in claims { state.claims[id, default: .none].merge(claim) }
      state.lastFlush = now
    }
  }

  /// The time by which every vCPU has flushed at least once.
  var everyoneFlushedBy: UInt64 {
    shards.map { shard in shard.state.withAnnotatedLock(owner: shard) { $0.lastFlush } }.min()
      ?? 0
  }

  /// Removes and returns the claims for `id`.
  func take(_ id: RegistrationID) -> Claim { take([id])[id] ?? .none }

  /// Removes and returns the claims for each of `ids` (those with none are left out), with
  /// one lock per shard.
  func take(_ ids: [RegistrationID]) -> [RegistrationID: Claim] {
    var taken: [RegistrationID: Claim] = [:]
    for shard in shards {
      shard.state.withAnnotatedLock(owner: shard) { state in
        for id in ids {
          if let claim = state.claims.removeValue(forKey: id) {
            taken[id, default: .none].merge(claim)
          }
        }
      }
    }
    return taken
  }

  /// Removes and returns every claim left.
  func takeAll() -> [RegistrationID: Claim] {
    var taken: [RegistrationID: Claim] = [:]
    for shard in shards {
      let claims = shard.state.withAnnotatedLock(owner: shard) { state in
        defer { state.claims = [:] }
        return state.claims
      }
      for (id, claim) in claims { taken[id, default: .none].merge(claim) }
    }
    return taken
  }
}
