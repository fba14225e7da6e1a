import ConcurrentBus
import Synchronization

/// Claims its value-matched writes and counts them; the cheapest device there is.
final class CountingDevice: IODevice {
  let count = Atomic<UInt64>(0)

  func read(offset: UInt64, size: Int) -> UInt64? { nil }

  func write(offset: UInt64, size: Int, value: UInt64) -> Bool {
    count.add(1, ordering: .relaxed)
    return true
  }
}
