import Synchronization

/// Atomic 64-bit words at a fixed address, reached through a raw pointer: the litmus
/// threads' shared memory. A litmus iteration's race window is a few nanoseconds, and a
/// reference count taken on the way (a locked instruction, so a full barrier on x86) would
/// close it: nothing here is reference counted, the words are copied around as a pointer.
///
/// Allocated once per run and never freed (a run makes a few hundred kilobytes of them): a
/// thread abandoned by a stalled run may still touch them. Their addresses stay in
/// ``immortal``, so that LeakSanitizer sees them reachable, which they are meant to be.
struct LitmusWords: @unchecked Sendable {
  // @unchecked: the pointee is atomics only, and the memory is never freed.
  private let base: UnsafeMutablePointer<Atomic<UInt64>>

  /// Every allocation's address, for the life of the process.
  private static let immortal = Mutex<[UInt]>([])

  /// Words per cache line (and its adjacent-line prefetch pair): 128 bytes.
  static let line = 16

  /// `count` words, all 0.
  init(count: Int) {
    base = .allocate(capacity: count)
    let address = UInt(bitPattern: base)
    Self.immortal.withLock { $0.append(address) }
    for index in 0..<count { (base + index).initialize(to: Atomic(0)) }
  }

  @inline(__always)
  func loadRelaxed(_ index: Int) -> UInt64 { base[index].load(ordering: .relaxed) }

  /// An acquiring load: the caller says what it pairs with.
  @inline(__always)
  func loadAcquiring(_ index: Int) -> UInt64 { base[index].load(ordering: .acquiring) }

  @inline(__always)
  func storeRelaxed(_ index: Int, _ value: UInt64) {
    base[index].store(value, ordering: .relaxed)
  }

  /// A releasing store: the caller says what it pairs with.
  @inline(__always)
  func storeReleasing(_ index: Int, _ value: UInt64) {
    base[index].store(value, ordering: .releasing)
  }
}
