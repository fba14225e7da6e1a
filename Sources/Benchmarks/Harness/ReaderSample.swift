/// A reader's own count.
struct ReaderSample {
  var operations = 0
  var unclaimed = 0
  var wallNanos: UInt64 = 0
  var cpuNanos: UInt64 = 0

  /// Checks in with `control`, then runs the reader's timed `loop`, recording the wall and
  /// CPU time it took.
  @inline(__always)
  static func timed(_ control: RunControl, _ loop: (inout ReaderSample) -> Void) -> ReaderSample {
    control.checkIn()
    var sample = ReaderSample()
    let wall = monotonicNanos()
    let cpu = threadCPUNanos()
    loop(&sample)
    sample.cpuNanos = threadCPUNanos() - cpu
    sample.wallNanos = monotonicNanos() - wall
    return sample
  }
}
