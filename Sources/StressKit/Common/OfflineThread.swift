import RCU

extension RCUFlavor {
  /// Registers the calling thread with the flavor and takes it offline: a writer thread,
  /// which waits for grace periods and must not hold one up itself (QSBR) while it does.
  static func registerOfflineThread() {
    registerCurrentThread()
    threadOffline()
  }

  /// Ends ``registerOfflineThread()`` in the reverse order: back online, then unregistered.
  static func unregisterOfflineThread() {
    threadOnline()
    unregisterCurrentThread()
  }
}
