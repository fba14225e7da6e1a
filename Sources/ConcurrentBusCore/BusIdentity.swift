import Synchronization

/// Identifies one ``IOBus`` for the life of the process: no two buses ever share one, even
/// after one is gone. Every ``Registration`` carries the identity of the bus that issued it.
public struct BusIdentity: Hashable, Sendable, CustomStringConvertible {
  /// Internal: identities are handed out by buses only, so none can be forged.
  let rawValue: UInt64

  /// A fresh identity, never handed out before in this process.
  static func next() -> BusIdentity {
    BusIdentity(rawValue: nextBusIdentity.add(1, ordering: .relaxed).newValue)
  }

  /// `bus N`, for messages.
  public var description: String { "bus \(rawValue)" }
}

// Relaxed: only uniqueness matters, and every add returns a distinct value.
private let nextBusIdentity = Atomic<UInt64>(0)
