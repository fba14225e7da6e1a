/// One result slot per thread of a run, each written by its own thread and read after the
/// threads are joined.
///
/// The slots are separate elements of one allocation, reached through a pointer: storing
/// into `[Value]` from several threads would be a modifying access of the whole array
/// (a Swift exclusivity violation ThreadSanitizer reports), even when every thread writes
/// its own element.
final class ThreadSlots<Value>: @unchecked Sendable {
  // @unchecked: slot i is written only by thread i, and read only after joining it.
  private let slots: UnsafeMutableBufferPointer<Value>

  init(repeating value: Value, count: Int) {
    slots = .allocate(capacity: count)
    slots.initialize(repeating: value)
  }

  deinit {
    slots.deinitialize()
    slots.deallocate()
  }

  /// Slot `index`: set by its thread, read once every thread has been joined.
  subscript(index: Int) -> Value {
    get { slots[index] }
    set { slots[index] = newValue }
  }

  /// Every slot, in order (after the joins).
  var values: [Value] { Array(slots) }
}
