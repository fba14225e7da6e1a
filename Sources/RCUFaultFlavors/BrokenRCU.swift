import RCU

/// A deliberately broken flavor whose grace periods do not wait for readers.
///
/// It exists to prove that the checkers work: a bus run on it frees tables and releases
/// devices while readers may still use them, and the stress tool's torture and churn checks
/// must report it. Never use it for anything else.
public enum BrokenRCU: RCUFlavor {
  public static var name: String { "broken" }

  public static func registerCurrentThread() {}

  public static func unregisterCurrentThread() {}

  @inlinable @inline(__always)
  public static func readLock() {}

  @inlinable @inline(__always)
  public static func readUnlock() {}

  public static var isInReadSection: Bool { false }

  public static func synchronize() {}

  public static func deferUntilGracePeriod(_ work: @escaping @Sendable () -> Void) { work() }

  public static func barrier() {}
}
