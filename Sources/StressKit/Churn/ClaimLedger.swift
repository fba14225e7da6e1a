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
final class ClaimLedger<Claim: ClaimTally>: Sendable {
  private struct State {
    var claims: [RegistrationID: Claim] = [:]
    var lastFlush: [UInt64]
  }

  private let state: Mutex<State>

  init(vcpus: Int) {
    state = Mutex(State(lastFlush: Array(repeating: 0, count: vcpus)))
  }

  func flush(_ claims: [RegistrationID: Claim], vcpu: Int) {
    let now = monotonicNanoseconds()
    state.withAnnotatedLock(owner: self) { state in
      for (id, claim) in claims { state.claims[id, default: .none].merge(claim) }
      state.lastFlush[vcpu] = now
    }
  }

  /// The time by which every vCPU has flushed at least once.
  var everyoneFlushedBy: UInt64 { state.withAnnotatedLock(owner: self) { $0.lastFlush.min() ?? 0 } }

  /// Removes and returns the claims for `id`.
  func take(_ id: RegistrationID) -> Claim {
    state.withAnnotatedLock(owner: self) { $0.claims.removeValue(forKey: id) ?? .none }
  }

  /// Removes and returns every claim left.
  func takeAll() -> [RegistrationID: Claim] {
    state.withAnnotatedLock(owner: self) { state in
      defer { state.claims = [:] }
      return state.claims
    }
  }
}
