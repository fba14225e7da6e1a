import CValueRing

/// A producer of ring records: the slot a vCPU thread holds while it lives.
///
/// A thread gets a slot on its first ring write (or when it asks for ``current``) and keeps
/// it until it exits; then a later thread may get the same slot and continue its lane, and
/// its sequence numbers, where the earlier thread stopped (everything the earlier thread
/// recorded comes first). A thread whose first write is made as vCPU `v` gets slot `v` when
/// no live thread holds it (so a VMM's vCPU threads write to the lanes of their indices),
/// else the lowest free slot. At most ``limit`` threads hold slots at once.
public struct RingProducer: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The slot number, in `0..<RingProducer.limit`.
  public let slot: Int

  /// Names a slot.
  public init(slot: Int) { self.slot = slot }

  /// How many threads can hold a producer slot at the same time. Ring writes from threads
  /// beyond this many are declined (see ``ValueRingStatistics/declined``).
  public static let limit = Int(VALUE_RING_PRODUCER_SLOTS)

  /// The calling thread's slot, claiming one if it has none yet (as a write made as vCPU 0
  /// would); nil when all ``limit`` are held by live threads.
  ///
  /// A checker calls this on each vCPU thread to learn which ``RingWrite/producer`` that
  /// thread's records will carry.
  public static var current: RingProducer? { current(vcpu: 0) }

  /// The calling thread's slot, claiming one if it has none yet as a write made as vCPU
  /// `vcpu` would (slot `vcpu` when it is free); nil when all ``limit`` are held by live
  /// threads.
  public static func current(vcpu: Int) -> RingProducer? {
    let slot = value_ring_producer_slot(Int64(truncatingIfNeeded: vcpu))
    return slot < 0 ? nil : RingProducer(slot: Int(slot))
  }

  /// Orders producers by slot number.
  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.slot < rhs.slot }

  /// `producer N`, for messages.
  public var description: String { "producer \(slot)" }
}

/// One guest write a ring captured.
public struct RingWrite: Hashable, Sendable {
  /// The producer slot of the vCPU thread that made the write.
  public let producer: RingProducer
  /// The write's number among everything this producer's writes claimed by this ring:
  /// 0, 1, 2, ... with no gap except where a ``RingLoss`` reports one.
  public let sequence: UInt64
  /// The offset from the registration's base (0 for an exact-address registration).
  public let offset: UInt64
  /// The access size in bytes.
  public let size: Int
  /// The value written (its low `size` bytes).
  public let value: UInt64
  /// The index of the vCPU the write was made as (``/ConcurrentBusCore/IOBus/write(address:size:value:vcpu:)``;
  /// 0 through the three-argument form), whichever thread made it.
  public let vcpu: Int

  /// Creates a record, as a ring reports it.
  public init(
    producer: RingProducer, sequence: UInt64, offset: UInt64, size: Int, value: UInt64,
    vcpu: Int = 0
  ) {
    self.producer = producer
    self.sequence = sequence
    self.offset = offset
    self.size = size
    self.value = value
    self.vcpu = vcpu
  }
}

/// Writes a producer's full lane could not hold: claimed by the ring, counted, but their
/// values are gone. Reported in order, exactly where they were lost.
public struct RingLoss: Hashable, Sendable {
  /// The producer slot whose lane was full.
  public let producer: RingProducer
  /// The sequence numbers of the lost writes.
  public let sequences: Range<UInt64>

  /// Creates a loss report, as a ring reports it.
  public init(producer: RingProducer, sequences: Range<UInt64>) {
    self.producer = producer
    self.sequences = sequences
  }

  /// How many writes were lost.
  public var count: UInt64 { sequences.upperBound - sequences.lowerBound }
}

/// What a ring delivers: a captured write, or a run of writes lost to a full lane.
///
/// For each producer, entries come in sequence order and their sequence numbers cover
/// 0, 1, 2, ... without gap or repetition: every write the ring claimed is reported exactly
/// once, either with its value or inside a loss.
public enum RingEntry: Hashable, Sendable {
  /// A captured write.
  case write(RingWrite)
  /// Writes lost to a full lane.
  case lost(RingLoss)

  /// The producer the entry belongs to.
  public var producer: RingProducer {
    switch self {
    case .write(let write): write.producer
    case .lost(let loss): loss.producer
    }
  }

  /// The sequence numbers the entry accounts for: one for a write, several for a loss.
  public var sequences: Range<UInt64> {
    switch self {
    case .write(let write): write.sequence..<(write.sequence + 1)
    case .lost(let loss): loss.sequences
    }
  }
}
