import ConcurrentBus
import Synchronization

/// A device model that handles each write on the vCPU thread, under the lock a model shared
/// by several vCPUs needs.
final class SynchronousModel: IODevice {
  private let state = Mutex((writes: UInt64(0), last: UInt64(0)))

  func read(offset: UInt64, size: Int) -> UInt64? { nil }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    state.withLock { $0 = ($0.writes &+ 1, value) }
    return true
  }
}
