import Glibc

/// Nanoseconds on `CLOCK_MONOTONIC`.
@inline(__always)
func monotonicNanos() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// CPU time the calling thread has used, in nanoseconds.
@inline(__always)
func threadCPUNanos() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
  return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
}

/// Sleeps until the monotonic clock reads `deadline` nanoseconds.
func sleep(untilNanos deadline: UInt64) {
  var time = timespec(
    tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
  while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
}

/// What `body` returned, and the nanoseconds it took on the monotonic clock.
@inline(__always)
func timed<Value>(_ body: () throws -> Value) rethrows -> (value: Value, nanos: UInt64) {
  let start = monotonicNanos()
  let value = try body()
  return (value, monotonicNanos() - start)
}
