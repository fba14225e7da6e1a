import ConcurrentBus
import Glibc
import RCU

// Bus-level faults, done by the engine itself from outside the bus: the production types
// carry no fault switch, no lock and no branch for them. (`skip-grace-period` is the
// engine's too: see `Hotplug`.)

extension ChurnTarget {
  /// `drop-entry`: every 16th update makes the bus forget stable registration 0 behind
  /// the checker's back, as a writer whose copy loses an entry would. Writes that matched
  /// it now fall through: the lost-signal check must notice.
  func dropEntryNow(update: Int) {
    guard fault == .dropEntry, update % 16 == 15, let dropVictim else { return }
    try? bus.unregister(dropVictim) {}
  }

  /// `early-close`: puts a read-only `/dev/null` on the eventfd's descriptor number just
  /// before its unregister, as if the eventfd had been closed before the grace period. The
  /// bus's signals then fail (EBADF) while readers may still reach it; the failed-signal
  /// and lost-signal checks must notice. The number stays open, so `EventFD.deinit` closes
  /// it exactly once.
  func closeBeforeGracePeriod(_ eventFD: EventFD) {
    guard fault == .earlyClose else { return }
    let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    guard devNull >= 0 else { return }
    dup2(devNull, eventFD.descriptor)
    close(devNull)
  }
}
