import ConcurrentBus
import RCU
import Synchronization

/// Claims the vCPUs saw per churned registration, flushed from each vCPU's own tally now
/// and then, with the time of each vCPU's last flush.
///
/// A vCPU flushes between dispatches, so once it has flushed after a registration retired,
/// every claim it will ever make for that registration (all from dispatches that began
/// before the unregister returned) is already here.
final class ClaimLedger: Sendable {
  private struct State {
    var claims: [RegistrationID: UInt64] = [:]
    var lastFlush: [UInt64]
  }

  private let state: Mutex<State>

  init(vcpus: Int) {
    state = Mutex(State(lastFlush: Array(repeating: 0, count: vcpus)))
  }

  func flush(_ claims: [RegistrationID: UInt64], vcpu: Int) {
    let now = monotonicNanoseconds()
    state.withAnnotatedLock(owner: self) { state in
      state.claims.merge(claims, uniquingKeysWith: +)
      state.lastFlush[vcpu] = now
    }
  }

  /// The time by which every vCPU has flushed at least once.
  var everyoneFlushedBy: UInt64 { state.withAnnotatedLock(owner: self) { $0.lastFlush.min() ?? 0 } }

  /// Removes and returns the claims for `id`.
  func take(_ id: RegistrationID) -> UInt64 {
    state.withAnnotatedLock(owner: self) { $0.claims.removeValue(forKey: id) ?? 0 }
  }

  /// Removes and returns every claim left.
  func takeAll() -> [RegistrationID: UInt64] {
    state.withAnnotatedLock(owner: self) { state in
      defer { state.claims = [:] }
      return state.claims
    }
  }
}
