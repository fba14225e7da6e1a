import ConcurrentBus
import RCU

/// A device that accepts everything, for exercising the probes.
final class AcceptingDevice: IODevice {
  func read(offset: UInt64, size: Int) -> UInt64? { offset }
  func write(offset: UInt64, size: Int, value: UInt64) -> Bool { true }
}

/// A bus on `flavor` that the probes dispatch to: an accepting device on the range
/// `[0x1000, +0x100)` and on writes of 7 at 0x1010.
func probeBus<Flavor: RCUFlavor>(_ flavor: Flavor.Type) -> IOBus<Flavor> {
  let bus = IOBus(flavor: flavor)
  let device = AcceptingDevice()
  do {
    _ = try bus.register(device, base: 0x1000, length: 0x100)
    _ = try bus.register(device, address: 0x1010, size: 4, match: .value(7))
  } catch {
    fatalError("\(flavor) probe setup failed: \(error)")
  }
  return bus
}

func runProbes() {
  let bus = probeBus(MembRCU.self)
  let claimed = probeWrite(bus, 0x1010, 4, 7)
  let read = probeRead(bus, 0x1020, 4)
  let control = probeControlRetains(DeviceHolder(AcceptingDevice()), 0, 0)
  print("write: \(claimed), read: \(String(describing: read)), control: \(control)")
  runRingProbes()
}
