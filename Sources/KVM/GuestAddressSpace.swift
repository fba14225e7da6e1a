/// The two spaces a guest access can target.
public enum GuestAddressSpace: Sendable, Hashable {
  /// x86 I/O ports (`in`/`out`), 16-bit addresses.
  case pio
  /// Guest-physical memory with no memory slot behind it.
  case mmio
}
