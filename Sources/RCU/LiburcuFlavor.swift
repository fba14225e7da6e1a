/// The template every flavor of this package follows: a conformer states its C calls (the
/// registration and read side ``RCUFlavor`` asks for, and its raw grace period) and owns one
/// ``Reclaimer``; the template writes the rest of ``RCUFlavor`` around them, once:
/// - `synchronize()`: aborts with a message inside a read-side section where the C call
///   would deadlock instead of aborting, checks the ThreadSanitizer configuration where the
///   read side is inlined, then waits for a grace period;
/// - `deferUntilGracePeriod(_:)`: the flavor's own reclaimer, in place of liburcu's
///   `call_rcu` (see ``Reclaimer`` for why);
/// - `barrier()`: aborts inside a read-side section, then waits for the reclaimer.
///
/// A flavor that really differs overrides a default: ``QSBRRCU`` goes offline around its
/// barrier, ``LoadedRCU`` defers through the loaded library's own `call_rcu`.
///
/// Internal, while its defaults are the public witnesses of ``RCUFlavor``: the raw grace
/// period skips the checks that turn a misuse into a message instead of a deadlock, and a
/// reclaimer is this module's. What a user sees is ``RCUFlavor``, unchanged.
protocol LiburcuFlavor: RCUFlavor {
  /// The flavor's grace period as its C call makes it (liburcu's `synchronize_rcu`), with
  /// none of the checks of `synchronize()` around it.
  static func waitForGracePeriod()

  /// Whether ``waitForGracePeriod()`` aborts with a message by itself when called inside a
  /// read-side section: CURCU keeps its own nesting depth for qsbr, mb, signal and loaded
  /// libraries and checks it. Where it does not (memb, bp: liburcu would wait for the
  /// caller's own section, forever), `synchronize()` checks first.
  static var gracePeriodChecksReadSection: Bool { get }

  /// Whether the read side is inlined into Swift code from CURCU's headers: a
  /// ThreadSanitizer build must then define `CURCU_TSAN` for Swift code and C files alike,
  /// which `synchronize()` and `deferUntilGracePeriod(_:)` check first (a cold call). Flavors
  /// reached through library calls only (mb, signal, loaded) have nothing to disagree on.
  static var inlinesReadSide: Bool { get }

  /// The flavor's reclaimer, for deferred work: a `static let`, made on first use with the
  /// flavor's `synchronize` and alive as long as the process.
  static var reclaimer: Reclaimer { get }
}

extension LiburcuFlavor {
  /// Waits until every read-side section that began before the call has ended; aborts
  /// with a message inside a read-side section.
  public static func synchronize() {
    if !gracePeriodChecksReadSection { requireOutsideReadSection("synchronize()") }
    if inlinesReadSide { checkTSanConfiguration() }
    waitForGracePeriod()
  }

  /// Queues `work` on the flavor's reclaimer, to run after a grace period; returns at once.
  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) {
    if inlinesReadSide { checkTSanConfiguration() }
    reclaimer.enqueue(work)
  }

  /// Waits until every work deferred before the call has run; aborts with a message inside
  /// a read-side section.
  public static func barrier() {
    requireOutsideReadSection("barrier()")
    reclaimer.barrier()
  }

  /// Aborts when the caller is inside a read-side section, where waiting for a grace
  /// period (directly, or for deferred work that waits for one) would wait for the caller
  /// itself: a deadlock, turned into a message.
  static func requireOutsideReadSection(_ operation: String) {
    if isInReadSection {
      fatalError("\(Self.self).\(operation) inside a read-side section would deadlock")
    }
  }
}
