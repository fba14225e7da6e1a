import Dispatch

/// At most a few hotplug threads inside a change at once, across every hotplug engine of a
/// run that shares the gate; the others wait here, where they see the run end.
///
/// Why: KVM serializes its registration ioctls (KVM_IOEVENTFD, the coalesced zones) on one
/// mutex, each waiting for an SRCU grace period inside it. With 30 hotplug threads beside
/// two CPU hogs, all of them queued there in uninterruptible sleep: the run could not wind
/// down until each had its turn, and the process could not exit before that (0.3 s past
/// the run's bound). The kernel lets one through at a time anyway, so a gate of two costs
/// no churn, and it is back-pressure instead of a queue in the kernel.
final class ChangeGate: Sendable {
  private let semaphore: DispatchSemaphore

  /// A gate that lets `limit` threads through at once.
  init(limit: Int) { semaphore = DispatchSemaphore(value: limit) }

  /// Waits for a turn; false, without one, once `stop` is raised meanwhile.
  func enter(unless stop: StopFlag) -> Bool {
    while semaphore.wait(timeout: .now() + .milliseconds(10)) == .timedOut {
      if stop.isSet { return false }
    }
    return true
  }

  /// Ends a turn ``enter(unless:)`` gave. Every turn must be left before the gate goes:
  /// libdispatch traps on a semaphore freed below its initial value.
  func leave() { semaphore.signal() }
}
