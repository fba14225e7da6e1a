/// Burns roughly `iterations` multiply-adds, so a reader stays inside its read-side section
/// (or a device) long enough for a grace period that does not wait to overlap it.
@inline(__always)
func linger(_ iterations: Int, seed: UInt64) {
  var value = seed | 1
  for _ in 0..<iterations { value = value &* 6_364_136_223_846_793_005 &+ 1 }
  keep(value)
}

/// Keeps the optimizer from deleting a computation whose result nobody reads.
@_optimize(none)
func keep(_ value: UInt64) {}
