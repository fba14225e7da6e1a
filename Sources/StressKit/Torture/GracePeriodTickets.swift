import RCU
import Synchronization

/// Numbers every `synchronize()` the torture makes, for the reader-batch check (rcutorture's
/// "Reader Batch", written here from its published description).
///
/// An updater takes a ticket before it calls `synchronize()` and, once the call returns,
/// raises ``completed`` to its ticket. A reader reads ``started`` just after entering its
/// section and ``completed`` just before leaving it. If it sees a completed ticket greater
/// than the started count it read, a `synchronize()` that began after the reader entered
/// returned before the reader left: a grace period that did not wait for a reader.
///
/// Why a correct RCU never trips it. Let the reader read `s` from ``started`` and later `c`
/// from ``completed``, with `c > s`. Ticket `c` was handed out by an increment that the
/// reader's load of ``started`` did not see, so in the counter's modification order that
/// increment comes after the load ("the load reads before the increment"). The increment
/// precedes the updater's `synchronize()` in program order, and `synchronize()` begins with
/// a full barrier. RCU's fundamental guarantee is that a read-side section either ends
/// before a grace period ends or begins after it began; since one of the reader's accesses
/// (the load of `s`) precedes an access the updater made before its grace period, the
/// section cannot have begun after the grace period began, so it must end before
/// `synchronize()` returns. The updater writes ``completed`` after `synchronize()` returns
/// (which ends with a full barrier), so no load inside the section can see `c`. The reader
/// loads stay relaxed: the RCU guarantee covers every access between read lock and unlock
/// in program order, and the flavor's lock and unlock are compiler barriers (inline asm or
/// opaque calls), so the loads stay inside the section.
final class GracePeriodTickets: Sendable {
  private let started = Atomic<UInt64>(0)
  private let completedTicket = Atomic<UInt64>(0)
  private let completions = Atomic<UInt64>(0)

  /// Takes a ticket, waits for a grace period on `Flavor`, then marks the ticket completed.
  func synchronize<Flavor: RCUFlavor>(_ flavor: Flavor.Type) {
    // Sequentially consistent (a locked add on x86), then the flavor's own full barrier at
    // the start of synchronize: the ticket is taken before the grace period begins. Pairs
    // with the reader's load of `started` at section exit.
    let ticket = started.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
    Flavor.synchronize()
    // Releasing, and after the flavor's full barrier at the end of synchronize: nobody sees
    // the ticket completed before the grace period ended. Pairs with the reader's
    // acquiring load of `completedTicket` at section entry.
    completedTicket.max(ticket, ordering: .releasing)
    completions.add(1, ordering: .relaxed)
  }

  /// How many tickets were handed out: read by a reader just after entering its section.
  @inline(__always)
  var startedCount: UInt64 { started.load(ordering: .relaxed) }

  /// The highest ticket whose `synchronize()` returned: read just before leaving.
  @inline(__always)
  var completed: UInt64 { completedTicket.load(ordering: .relaxed) }

  /// How many `synchronize()` calls returned.
  var completedCount: UInt64 { completions.load(ordering: .relaxed) }
}
