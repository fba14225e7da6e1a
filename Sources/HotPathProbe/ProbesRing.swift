import ConcurrentBus
import RCU

// The ring's write path. The bus reaches it through the device's witness table, an
// indirect call the checker counts but does not follow (the bus's own dispatch is checked
// through concurrentbus_probe_write), so the probe calls the ring device's write directly.

@inline(never) @_silgen_name("concurrentbus_probe_ring_write")
func probeRingWrite(_ device: ValueRingDevice, _ offset: UInt64, _ size: Int, _ value: UInt64)
  -> Bool
{
  device.write(offset: offset, size: size, value: value)
}

/// Registers a ring and runs both probes once, so they are linked and exercised.
func runRingProbes() {
  do {
    let bus = IOBus()
    let ring = try bus.registerRing(address: 0x2000, size: 4, match: .any, wakeup: EventFD())
    guard let device = bus.device(of: ring.registration) as? ValueRingDevice else {
      fatalError("a ring registration's device is a ValueRingDevice")
    }
    let dispatched = bus.write(address: 0x2000, size: 4, value: 1)
    let written = probeRingWrite(device, 0, 4, 2)
    var entries: [RingEntry] = []
    ring.drain(into: &entries)
    print("ring dispatch: \(dispatched), ring write: \(written), entries: \(entries.count)")
  } catch {
    fatalError("ring probe setup failed: \(error)")
  }
}
