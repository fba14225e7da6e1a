import ConcurrentBus

/// The device every benchmark entry points at: claims every access and does nothing, so
/// that what is measured is the bus, plus the one dynamic call that is the device's own.
final class NullDevice: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { 0 }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}
