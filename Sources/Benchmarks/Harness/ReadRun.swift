/// One timed run of reader threads (and maybe a writer) on one design.
struct ReadRun: Sendable {
  /// Dispatches per second, all threads together.
  var throughput: Double
  /// CPU nanoseconds per dispatch, averaged over threads (descheduled time excluded).
  var nanosPerDispatch: Double
  /// Updates the writer completed per second.
  var updatesPerSecond: Double
  /// Dispatches no device claimed; always 0 unless the benchmark is broken.
  var unclaimed: Int
  /// How long each of the writer's synchronous unregisters took, in nanoseconds.
  var unregisterNanos: [UInt64]
}
