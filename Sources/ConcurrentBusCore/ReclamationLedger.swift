import Glibc
import RCU
import Synchronization

/// The bus's account of what waits for a grace period: one ticket per published batch,
/// taken when the batch hands its retired table (and removed or moved devices) over, and
/// given back when they have been freed. Writers only: dispatch never touches it.
final class ReclamationLedger: Sendable {
  /// One batch's reclamation: plain integers, so the queue moves it with plain copies.
  private struct Waiting {
    /// `CLOCK_MONOTONIC` nanoseconds.
    let retiredAt: UInt64
    let tables: Int
    let devices: Int
    let bytes: Int
    /// Reclamations finished, and still waiting, when this one was handed over: every
    /// one still waiting then is older, so finishes counted later beyond those are of
    /// later ones.
    let finishedBefore: UInt64
    let olderWaiting: Int
  }

  private struct State {
    /// Waiting reclamations by ticket, oldest first: ticket `t` is at `t - firstTicket`;
    /// finished ones are nil until everything before them has finished too.
    var waiting: [Waiting?] = []
    var oldest = 0
    var firstTicket: UInt64 = 0
    var finished: UInt64 = 0
    var count = 0
    var tables = 0
    var devices = 0
    var bytes = 0
  }

  private let state = Mutex(State())

  /// `CLOCK_MONOTONIC` nanoseconds (vDSO, no system call).
  private static func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
  }

  /// Opens a ticket for one batch's reclamation.
  func retire(tables: Int, devices: Int, bytes: Int) -> UInt64 {
    let now = Self.now()
    return state.withAnnotatedLock(owner: self) { state in
      let ticket = state.firstTicket + UInt64(state.waiting.count)
      state.waiting.append(
        Waiting(
          retiredAt: now, tables: tables, devices: devices, bytes: bytes,
          finishedBefore: state.finished, olderWaiting: state.count))
      state.count += 1
      state.tables += tables
      state.devices += devices
      state.bytes += bytes
      return ticket
    }
  }

  /// Closes `ticket`: its table and devices are freed.
  func finish(_ ticket: UInt64) {
    state.withAnnotatedLock(owner: self) { state in
      let index = Int(ticket - state.firstTicket)
      guard let done = state.waiting[index] else { preconditionFailure("ticket finished twice") }
      state.waiting[index] = nil
      state.count -= 1
      state.tables -= done.tables
      state.devices -= done.devices
      state.bytes -= done.bytes
      state.finished += 1
      while state.oldest < state.waiting.count, state.waiting[state.oldest] == nil {
        state.oldest += 1
      }
      // Drop the finished prefix once it is most of the array: amortized O(1) per ticket.
      if state.oldest >= 64, state.oldest * 2 >= state.waiting.count {
        state.waiting.removeFirst(state.oldest)
        state.firstTicket += UInt64(state.oldest)
        state.oldest = 0
      }
    }
  }

  /// What waits now.
  var backlog: ReclamationBacklog {
    let now = Self.now()
    return state.withAnnotatedLock(owner: self) { state in
      let oldest = state.oldest < state.waiting.count ? state.waiting[state.oldest] : nil
      let overtaken = oldest.map { oldest in
        Int(state.finished - oldest.finishedBefore) - oldest.olderWaiting
      }
      return ReclamationBacklog(
        retiredTables: state.tables, releasedDevices: state.devices, bytes: state.bytes,
        oldestAge: oldest.map { .nanoseconds(Int64(now &- $0.retiredAt)) } ?? .zero,
        oldestOvertakenBy: max(overtaken ?? 0, 0))
    }
  }
}
