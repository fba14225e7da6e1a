import RCU

extension RCUFlavor {
  /// Runs `body`, which reads under RCU (the bus's introspection, `registrations` and
  /// `device(of:)`, opens a read-side section), on a thread that is no vCPU: the main
  /// thread, a hotplug thread.
  ///
  /// Under QSBR such a read aborts unless the thread is registered and online, and an
  /// online thread that then blocks (in a grace-period wait, a lock) holds back every grace
  /// period. So the thread registers (once; it stays registered until it exits) and is
  /// online just for `body`, offline otherwise. Under the other flavors registering is
  /// idempotent and cheap, and going offline compiles away.
  static func asOccasionalReader<Result>(_ body: () -> Result) -> Result {
    registerCurrentThread()
    defer { threadOffline() }
    return body()
  }
}
