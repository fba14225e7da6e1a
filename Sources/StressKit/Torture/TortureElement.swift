import Synchronization

/// One element of the torture pool. Elements are never freed during a run (a freed element
/// would crash a reader instead of being caught by a check): the writer recycles them once
/// they are old enough.
final class TortureElement: Sendable {
  /// Grace periods the writer completed since this element was replaced; 0 while current.
  let age = Atomic<Int>(0)
  /// Set before publication and cleared when recycled: a reader must always see it set.
  let marker = Atomic<UInt64>(0)

  /// The value of ``marker`` while the element may be published.
  static var initialized: UInt64 { 0x5EED_F00D_CAFE_0001 }
}

/// What the published slot holds: the index of the current element in the pool, and a
/// check word derived from it.
///
/// Neither is a pointer, and both sit past the first 16 bytes, which glibc's allocator
/// overwrites when a block is freed. A reader of a snapshot freed too early (a broken grace
/// period) then reads either intact fields, a valid index from a reused snapshot, or
/// garbage that fails the check: never a pointer to follow, so it reports instead of
/// crashing.
struct TortureSnapshot {
  private let allocatorScratch: (UInt64, UInt64) = (0, 0)
  private let index: Int
  private let check: UInt64

  init(index: Int) {
    self.index = index
    check = Self.check(index)
  }

  /// The element index, or nil when the fields are not a snapshot's (freed and reused).
  func element(poolSize: Int) -> Int? {
    guard index >= 0, index < poolSize, check == Self.check(index) else { return nil }
    return index
  }

  private static func check(_ index: Int) -> UInt64 {
    UInt64(bitPattern: Int64(index)) ^ 0xC0FF_EE00_D15E_A5E5
  }
}

/// The elements, in memory a reader reads without touching a reference count.
final class TorturePool: @unchecked Sendable {
  // @unchecked: `elements` is written once in init and only read afterwards; the elements
  // it holds are retained by it until deinit, after every thread has been joined.
  private let elements: UnsafeMutableBufferPointer<Unmanaged<TortureElement>>

  init(count: Int) {
    elements = .allocate(capacity: count)
    _ = elements.initialize(from: (0..<count).map { _ in .passRetained(TortureElement()) })
  }

  deinit {
    for element in elements { element.release() }
    elements.deallocate()
  }

  var count: Int { elements.count }

  /// Runs `body` on element `index` without retaining it.
  @inline(__always)
  func with<Result>(_ index: Int, _ body: (TortureElement) -> Result) -> Result {
    // Safe: the pool holds a retain on every element until deinit.
    elements[index]._withUnsafeGuaranteedRef(body)
  }
}
