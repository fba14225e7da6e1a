/// The value of a sequenced guest write (``GuestProgram/SequencedWrite``): which writer
/// (vCPU) made it, and that writer's sequence number modulo 2^24.
///
/// Encoding: a 4-byte write carries `writer << 24 | sequence`; an 8-byte write carries
/// `writer << 56 | sequence`, its bits 24 to 55 zero.
public struct SequencedValue: Sendable, Hashable, CustomStringConvertible {
  /// Sequence numbers wrap at 2^24 (16,777,216 writes per writer).
  public static let sequenceModulus: UInt32 = 1 << 24
  /// The bits of a value that hold the sequence number.
  public static let sequenceMask: UInt32 = sequenceModulus - 1

  /// The writer id, normally the vCPU index (``GuestProgram/writer``).
  public var writer: UInt8
  /// The writer's sequence number, modulo ``sequenceModulus``.
  public var sequence: UInt32

  /// A value; `sequence` is reduced modulo ``sequenceModulus``.
  public init(writer: UInt8, sequence: UInt32) {
    self.writer = writer
    self.sequence = sequence & Self.sequenceMask
  }

  /// Decodes a write of `size` bytes (4 or 8); nil when no sequenced write could carry it.
  public init?(decoding value: UInt64, size: Int) {
    switch size {
    case 4 where value >> 32 == 0:
      writer = UInt8(truncatingIfNeeded: value >> 24)
    case 8 where (value >> 24) & 0xFFFF_FFFF == 0:
      writer = UInt8(truncatingIfNeeded: value >> 56)
    default:
      return nil
    }
    sequence = UInt32(truncatingIfNeeded: value) & Self.sequenceMask
  }

  /// The value a write of `size` bytes (4 or 8) carries.
  public func encoded(size: Int) -> UInt64 {
    UInt64(writer) << (size == 8 ? 56 : 24) | UInt64(sequence)
  }

  /// For example `writer 1 #42`.
  public var description: String { "writer \(writer) #\(sequence)" }
}
