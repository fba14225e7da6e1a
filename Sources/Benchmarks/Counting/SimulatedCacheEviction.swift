/// Writes one word per cache line of a 64 MiB buffer: twice the simulated last level (32
/// MiB, 16-way), so that every line the set-up left in the simulated caches is evicted and
/// the counted loop starts from the same cache state on every run. Without it the set-up's
/// thread hand-offs left the caches a little different from run to run, and a miss count of
/// exactly 1 per 8 dispatches (0.125) printed as 0.12 or 0.13.
///
/// The buffer is never freed, so that the stores cannot be dropped as dead.
func evictSimulatedCaches() {
  var offset = 0
  while offset < evictionBytes {
    evictionBuffer.storeBytes(of: UInt64(offset), toByteOffset: offset, as: UInt64.self)
    offset &+= 64
  }
}

/// The size of ``evictionBuffer``.
private let evictionBytes = 64 << 20

/// What ``evictSimulatedCaches()`` writes: allocated at its first use, kept for the process.
/// nonisolated(unsafe): only the probe's one counting thread touches it.
nonisolated(unsafe) private let evictionBuffer = UnsafeMutableRawPointer.allocate(
  byteCount: evictionBytes, alignment: 64)
