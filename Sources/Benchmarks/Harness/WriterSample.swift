/// The churning writer's own count.
struct WriterSample {
  var updates = 0
  var unregisterNanos: [UInt64] = []
}
