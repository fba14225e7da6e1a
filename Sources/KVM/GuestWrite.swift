/// One guest write as the host should observe it: where, how wide, which value.
public struct GuestWrite: Sendable, Hashable, CustomStringConvertible {
  /// Ports or MMIO.
  public var space: GuestAddressSpace
  /// Port number or guest-physical address.
  public var address: UInt64
  /// Access width in bytes.
  public var size: Int
  /// The value written (zero-extended).
  public var value: UInt64

  /// Creates a key for counting writes.
  public init(space: GuestAddressSpace, address: UInt64, size: Int, value: UInt64) {
    self.space = space
    self.address = address
    self.size = size
    self.value = value
  }

  /// For example `pio 0x3f8/1 = 0x41`.
  public var description: String {
    "\(space) 0x\(String(address, radix: 16))/\(size) = 0x\(String(value, radix: 16))"
  }
}
