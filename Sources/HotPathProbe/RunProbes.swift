import ConcurrentBus

/// A device that accepts everything, for exercising the probes.
final class AcceptingDevice: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { offset }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

func runProbes() {
  let bus = IOBus()
  let device = AcceptingDevice()
  do {
    _ = try bus.register(device, base: 0x1000, length: 0x100)
    _ = try bus.register(device, address: 0x1010, size: 4, match: .value(7))
  } catch {
    fatalError("probe setup failed: \(error)")
  }
  let claimed = probeWrite(bus, 0x1010, 4, 7)
  let read = probeRead(bus, 0x1020, 4)
  let control = probeControlRetains(DeviceHolder(device), 0, 0)
  print("write: \(claimed), read: \(String(describing: read)), control: \(control)")
  runRingProbes()
}
