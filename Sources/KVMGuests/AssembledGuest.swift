public import KVM

/// An encoded `GuestProgram`: the bytes to copy into guest RAM and where.
public struct AssembledGuest: Sendable, Hashable {
  /// Machine code; execution starts at its first byte.
  public let code: [UInt8]
  /// Guest-physical address the code is built for.
  public let codeAddress: UInt64
  /// Constants and zeroed result slots.
  public let data: [UInt8]
  /// Guest-physical address of `data`.
  public let dataAddress: UInt64
  /// For each read access (by index in `GuestProgram.accesses`), the guest-physical
  /// address of its 8-byte result slot.
  public let resultAddresses: [Int: UInt64]
  /// Where the sequence counter (4 bytes) is kept between runs, when the program has
  /// sequenced writes: the sequence number of its next one.
  public let sequenceCounterAddress: UInt64?

  /// Copies code and data into `memory`.
  public func load(into memory: GuestMemory) throws(KVMError) {
    try memory.write(code, at: codeAddress)
    try memory.write(data, at: dataAddress)
  }
}
