/// Per-thread results, each slot written by one thread before it is joined.
final class ThreadSlots<Value>: @unchecked Sendable {
  // @unchecked: slot i is written only by thread i, and read only after joining it.
  var values: [Value]
  init(repeating value: Value, count: Int) { values = Array(repeating: value, count: count) }
}
