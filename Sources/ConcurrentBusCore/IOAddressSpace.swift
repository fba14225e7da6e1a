/// Which kind of address a bus dispatches, and so which registrations it accepts.
///
/// The kind changes only the writer's rules, never the dispatch path: a port-I/O bus refuses
/// registrations past port 0xFFFF, so an access beyond it finds nothing to claim it.
public enum IOAddressSpace: Hashable, Sendable, CustomStringConvertible {
  /// Memory-mapped I/O: 64-bit guest-physical addresses. The default of `IOBus()`.
  case mmio
  /// x86 port I/O: 16-bit port numbers, 0 through 0xFFFF. Any-size (size 0) value matches
  /// are refused, as upstream KVM refuses size-0 port-I/O ioeventfds.
  case portIO

  /// The highest address a registration may cover.
  public var lastAddress: UInt64 {
    switch self {
    case .mmio: UInt64.max
    case .portIO: 0xFFFF
    }
  }

  /// Whether a size-0 ("any access length") value match may be registered.
  public var allowsAnySizeMatch: Bool { self == .mmio }

  /// `MMIO` or `port I/O`, for messages.
  public var description: String {
    switch self {
    case .mmio: "MMIO"
    case .portIO: "port I/O"
    }
  }
}
